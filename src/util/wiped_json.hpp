// Parses a JSON document that holds secrets (secret values, access tokens)
// into memory that is wiped when the document goes away. Include it only
// from .cpp files that already use Boost.JSON.
#pragma once

#include "secret.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace secrun::util {

class WipedJson {
public:
    // Sized for `text`, so the whole DOM normally lives in the wiped buffer
    // (a larger document spills into ordinary heap blocks: best effort).
    explicit WipedJson(std::string_view text)
        : size_(text.size() * 2 + 4096), buffer_(std::make_unique<unsigned char[]>(size_)),
          resource_(buffer_.get(), size_)
    {
        boost::system::error_code ec;
        value_ = boost::json::parse(text, ec, &resource_);
        ok_ = !ec;
    }
    WipedJson(const WipedJson&) = delete;
    WipedJson& operator=(const WipedJson&) = delete;
    ~WipedJson()
    {
        value_ = nullptr;
        cleanse(buffer_.get(), size_);
    }

    // False when the text is not JSON (value() is then null).
    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] const boost::json::value& value() const noexcept { return value_; }

private:
    std::size_t size_;
    std::unique_ptr<unsigned char[]> buffer_;
    boost::json::monotonic_resource resource_;
    boost::json::value value_;
    bool ok_ = false;
};

} // namespace secrun::util
