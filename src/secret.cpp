#include "secret.hpp"

#include <cstring>
#include <string.h> // explicit_bzero
#include <utility>

namespace secrun {

void cleanse(void* p, std::size_t n) noexcept
{
    if (p != nullptr && n != 0)
        ::explicit_bzero(p, n);
}

void cleanse(std::string& s) noexcept
{
    // Wipe the whole allocation, not just size(): a value may have been longer.
    s.resize(s.capacity());
    cleanse(s.data(), s.size());
    s.clear();
}

SecretString::SecretString(std::string&& value) noexcept : value_(std::move(value))
{
    cleanse(value); // small-string optimisation copies instead of moving
}

SecretString::SecretString(SecretString&& other) noexcept : value_(std::move(other.value_))
{
    cleanse(other.value_);
}

SecretString& SecretString::operator=(const SecretString& other)
{
    if (this != &other) {
        cleanse(value_);
        value_ = other.value_;
    }
    return *this;
}

SecretString& SecretString::operator=(SecretString&& other) noexcept
{
    if (this != &other) {
        cleanse(value_);
        value_ = std::move(other.value_);
        cleanse(other.value_);
    }
    return *this;
}

SecretString::~SecretString() { cleanse(value_); }

} // namespace secrun
