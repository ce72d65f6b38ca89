// Shared pieces of the AWS unit tests: a temporary HOME, a fixed clock and
// canned metadata answers.
#pragma once

#include "env_map.hpp"
#include "fakes/fake_https_client.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace secrun::testing {

// 2015-08-30T12:36:00Z, the time of the SigV4 vectors.
inline const auto fixed_time = std::chrono::system_clock::from_time_t(1440938160);
inline std::chrono::system_clock::time_point fixed_now() { return fixed_time; }

class TempDir {
public:
    TempDir()
    {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "secrun-aws-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    [[nodiscard]] std::string str() const { return path_.string(); }

    // Writes `text` to path()/relative (parents created) and returns the full path.
    std::string write(const std::string& relative, const std::string& text,
                      std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                     std::filesystem::perms::owner_write)
    {
        const auto file = path_ / relative;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        std::filesystem::permissions(file, perms);
        return file.string();
    }

private:
    std::filesystem::path path_;
};

inline constexpr std::string_view imds = "http://169.254.169.254:80";

// The IMDSv2 answers of an instance with role `role`.
inline void add_imds_routes(FakeHttpsClient& http, const std::string& role = "app-role")
{
    http.on("PUT", std::string(imds) + "/latest/api/token", 200, "IMDS-TOKEN");
    http.on("GET", std::string(imds) + "/latest/meta-data/iam/security-credentials/" + role, 200,
            R"({"Code":"Success","LastUpdated":"2015-08-30T12:00:00Z","Type":"AWS-HMAC",)"
            R"("AccessKeyId":"ASIAIMDS","SecretAccessKey":"imds-secret","Token":"imds-token",)"
            R"("Expiration":"2015-08-30T18:00:00Z"})");
    http.on("GET", std::string(imds) + "/latest/meta-data/iam/security-credentials/", 200, role + "\n");
}

} // namespace secrun::testing
