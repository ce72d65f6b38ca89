// TempDir: a private directory (mode 0700) under $TMPDIR or /tmp, removed
// with everything in it when the object is destroyed.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace secrun::testing
{

class TempDir
{
public:
    // Creates "<tmp>/secrun-<prefix>-XXXXXX". Throws std::runtime_error on failure
    // (test code: Boost.Test reports it).
    explicit TempDir(std::string_view prefix = "test");
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    // path() / name
    [[nodiscard]] std::filesystem::path operator/(std::string_view name) const
    {
        return path_ / name;
    }
    // Writes `content` to path()/name (mode 0600) and returns that path.
    std::filesystem::path write(std::string_view name, std::string_view content) const;

private:
    std::filesystem::path path_;
};

} // namespace secrun::testing
