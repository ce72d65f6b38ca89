// SecretString: the only type that holds a secret value.
//
// Its buffer is wiped when it is destroyed or overwritten. It has no
// operator<<, no implicit conversion to std::string and no formatting
// support, so a value cannot reach a log line or an error by accident. The
// one accessor, reveal(), is easy to grep for; a test checks its call sites.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace secrun {

// Overwrites n bytes at p in a way the compiler may not elide.
void cleanse(void* p, std::size_t n) noexcept;

// Wipes the characters of a std::string that held a secret.
void cleanse(std::string& s) noexcept;

class SecretString {
public:
    SecretString() = default;
    explicit SecretString(std::string_view value) : value_(value) {}
    // Takes the buffer of `value`; whatever is left in `value` is wiped.
    explicit SecretString(std::string&& value) noexcept;

    SecretString(const SecretString& other) = default;
    SecretString(SecretString&& other) noexcept;
    SecretString& operator=(const SecretString& other);
    SecretString& operator=(SecretString&& other) noexcept;
    ~SecretString();

    [[nodiscard]] std::string_view reveal() const noexcept { return value_; }
    [[nodiscard]] std::size_t size() const noexcept { return value_.size(); }
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

    friend bool operator==(const SecretString& a, const SecretString& b) noexcept
    {
        return a.value_ == b.value_;
    }

private:
    std::string value_;
};

// Secrets by name; later insertions win (dotenv files, whole-config downloads).
using SecretMap = std::map<std::string, SecretString, std::less<>>;

} // namespace secrun
