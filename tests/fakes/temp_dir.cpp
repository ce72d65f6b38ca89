#include "temp_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <sys/stat.h>

namespace secrun::testing
{

TempDir::TempDir(std::string_view prefix)
{
    const char* tmp = std::getenv("TMPDIR"); // test code: the test runner's environment
    std::string pattern =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/secrun-" + std::string(prefix) + "-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) {
        const std::error_code ec(errno, std::system_category());
        throw std::runtime_error("mkdtemp " + pattern + ": " + ec.message());
    }
    path_ = buf.data();
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_))
{
    other.path_.clear();
}

TempDir& TempDir::operator=(TempDir&& other) noexcept
{
    if (this != &other) {
        std::error_code ec;
        if (!path_.empty())
            std::filesystem::remove_all(path_, ec);
        path_ = std::move(other.path_);
        other.path_.clear();
    }
    return *this;
}

TempDir::~TempDir()
{
    if (path_.empty())
        return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(std::string_view name, std::string_view content) const
{
    const std::filesystem::path file = path_ / name;
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        if (!out)
            throw std::runtime_error("cannot write " + file.string());
    }
    ::chmod(file.c_str(), 0600);
    return file;
}

} // namespace secrun::testing
