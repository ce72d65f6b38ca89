#include "auth/wiped_json.hpp"

#include "secret.hpp"

#include <boost/json/memory_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/storage_ptr.hpp>

#include <array>
#include <cstddef>
#include <new>

namespace secrun::auth {
namespace {

// Boost.JSON 1.81 may free a block with another alignment than it asked
// for (its value_stack; ASan: new-delete-type-mismatch, found by
// fuzz_aws_credentials_json), so ordinary alignments all use the plain
// operator new/delete, which do not depend on it.
class WipingResource final : public boost::json::memory_resource {
    static constexpr std::size_t plain = alignof(std::max_align_t);

    void* do_allocate(std::size_t bytes, std::size_t align) override
    {
        return align <= plain ? ::operator new(bytes) : ::operator new(bytes, std::align_val_t(align));
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t align) override
    {
        cleanse(p, bytes);
        if (align <= plain)
            ::operator delete(p);
        else
            ::operator delete(p, std::align_val_t(align));
    }
    bool do_is_equal(const boost::json::memory_resource& other) const noexcept override
    {
        return this == &other;
    }
};

} // namespace

std::optional<boost::json::value> parse_json_wiped(std::string_view text)
{
    const boost::json::storage_ptr storage = boost::json::make_shared_resource<WipingResource>();
    // The parser's first scratch block lives here; it is wiped below.
    std::array<unsigned char, 512> scratch{};
    std::optional<boost::json::value> out;
    {
        boost::json::parser parser(storage, {}, scratch.data(), scratch.size());
        parser.reset(storage);
        boost::system::error_code ec;
        parser.write(text.data(), text.size(), ec);
        if (!ec)
            out.emplace(parser.release());
    }
    cleanse(scratch.data(), scratch.size());
    return out;
}

std::optional<std::string_view> json_string(const boost::json::object& object, std::string_view key)
{
    const auto* value = object.if_contains(key);
    if (value == nullptr || !value->is_string())
        return std::nullopt;
    return std::string_view(value->get_string());
}

} // namespace secrun::auth
