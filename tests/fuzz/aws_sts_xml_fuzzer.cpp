// STS answers (awsQuery XML): the first byte picks the HTTP status, the rest
// is the body. parse_sts_response never crashes, and xml_text/xml_inner
// stay inside the document.
#include "fuzz_support.hpp"

#include "auth/aws_sts.hpp"

#include <array>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    constexpr std::array<unsigned, 8> statuses = {200, 200, 200, 400, 403, 500, 503, 302};
    if (size == 0)
        return 0;
    const std::string_view body = secrun::fuzz::as_text(data + 1, size - 1);

    secrun::https::Response response;
    response.status = statuses[data[0] % statuses.size()];
    response.body = std::string(body);
    for (const char* action : {"AssumeRoleWithWebIdentity", "AssumeRole"}) {
        const auto credentials = secrun::auth::parse_sts_response(response, action);
        if (credentials) {
            require(response.status == 200, "only a 200 gives credentials");
            require(!credentials->access_key_id.empty() && !credentials->secret_access_key.empty(),
                    "credentials have a key id and a secret");
        }
    }
    if (const auto inner = secrun::auth::xml_inner(body, "Credentials")) {
        require(inner->empty() || (inner->data() >= body.data() &&
                                   inner->data() + inner->size() <= body.data() + body.size()),
                "xml_inner returns a part of the document");
    }
    (void)secrun::auth::xml_text(body, "Code");
    return 0;
}
