#include "backends/doppler_protocol.hpp"

#include "util/strings.hpp"

#include <boost/json/memory_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <cctype>
#include <cstddef>
#include <new>
#include <optional>

namespace secrun::backends::doppler {
namespace {

namespace json = boost::json;
using util::quoted;
using util::str_cat;

// Server messages are quoted in errors; this bounds what a server can make us print.
constexpr std::size_t max_server_message = 300;

// The parsed download holds secret values: every block the parser and the
// value free is wiped first. Boost.JSON 1.81 may free a block with another
// alignment than it asked for (ASan: new-delete-type-mismatch), so ordinary
// alignments all use the plain operator new/delete.
class WipingResource final : public json::memory_resource {
    static constexpr std::size_t plain = alignof(std::max_align_t);

    void* do_allocate(std::size_t bytes, std::size_t align) override
    {
        return align <= plain ? ::operator new(bytes)
                              : ::operator new(bytes, std::align_val_t(align));
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t align) override
    {
        cleanse(p, bytes);
        if (align <= plain)
            ::operator delete(p);
        else
            ::operator delete(p, std::align_val_t(align));
    }
    bool do_is_equal(const json::memory_resource& other) const noexcept override
    {
        return this == &other;
    }
};

// `text` with every occurrence of `token` replaced by "[token]", scanning
// the original text only (the replacement is never searched again).
std::string redact(std::string_view text, std::string_view token)
{
    if (token.empty())
        return std::string(text);
    std::string out;
    std::size_t from = 0;
    for (auto at = text.find(token); at != std::string_view::npos; at = text.find(token, from)) {
        out.append(text.substr(from, at - from));
        out += "[token]";
        from = at + token.size();
    }
    out.append(text.substr(from));
    return out;
}

} // namespace

bool is_plain_name(std::string_view name) noexcept
{
    if (name.empty() || name.size() > 100)
        return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
            return false;
    return true;
}

Result<Download> parse_download(std::string_view body, std::string_view where)
{
    WipingResource wiping; // declared first: outlives everything allocated from it
    boost::system::error_code ec;
    // Move-constructed from the parser's result, so it keeps the wiping
    // storage (assigning to a default-constructed value would copy every
    // value into ordinary, unwiped memory).
    std::optional<json::value> value;
    {
        json::parser parser{json::storage_ptr(&wiping)}; // its scratch space is wiped too
        parser.reset(json::storage_ptr(&wiping));
        parser.write(body.data(), body.size(), ec);
        if (!ec)
            value.emplace(parser.release());
    }
    if (!value)
        return Error(Errc::bad_response,
                     str_cat("Doppler returned invalid JSON for ", where, " (", ec.message(), ")"));
    if (!value->is_object())
        return Error(Errc::bad_response,
                     str_cat("Doppler returned JSON that is not an object for ", where));
    Download out;
    for (const auto& entry : value->get_object()) {
        if (!entry.value().is_string())
            return Error(Errc::bad_response,
                         str_cat("Doppler returned a value that is not a string for ",
                                 quoted(entry.key()), " in ", where));
        const std::string_view text = entry.value().get_string();
        if (entry.key() == "DOPPLER_PROJECT")
            out.project = text;
        else if (entry.key() == "DOPPLER_CONFIG")
            out.config = text;
        out.secrets.insert_or_assign(std::string(entry.key()), SecretString(text));
    }
    return out;
}

std::string server_messages(std::string_view body, std::string_view token)
{
    boost::system::error_code ec;
    json::parser parser;
    parser.write(body.data(), body.size(), ec);
    if (ec)
        return {};
    const json::value value = parser.release();
    const json::value* messages =
        value.is_object() ? value.get_object().if_contains("messages") : nullptr;
    if (!messages || !messages->is_array())
        return {};
    std::string joined;
    for (const json::value& m : messages->get_array()) {
        if (!m.is_string())
            continue;
        if (!joined.empty())
            joined += "; ";
        joined += std::string_view(m.get_string());
    }
    joined = redact(joined, token);
    for (char& c : joined)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = ' ';
    if (joined.size() > max_server_message)
        joined = str_cat(std::string_view(joined).substr(0, max_server_message), "...");
    return joined;
}

} // namespace secrun::backends::doppler
