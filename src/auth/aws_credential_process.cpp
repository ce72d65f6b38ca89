#include "auth/aws_credential_process.hpp"

#include "auth/aws_metadata.hpp"
#include "auth/wiped_json.hpp"
#include "util/strings.hpp"
#include "util/subprocess.hpp"

namespace secrun::auth {

using util::str_cat;

std::optional<std::vector<std::string>> split_command_line(std::string_view line)
{
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quote == '\'') {
            if (c == '\'')
                quote = 0;
            else
                word += c;
        } else if (quote == '"') {
            if (c == '"')
                quote = 0;
            else if (c == '\\' && i + 1 < line.size() &&
                     std::string_view("\"\\$`\n").find(line[i + 1]) != std::string_view::npos)
                word += line[++i];
            else
                word += c;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word)
                words.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else {
            in_word = true;
            if (c == '\'' || c == '"')
                quote = c;
            else if (c == '\\' && i + 1 < line.size())
                word += line[++i];
            else
                word += c;
        }
    }
    if (quote != 0)
        return std::nullopt;
    if (in_word)
        words.push_back(std::move(word));
    if (words.empty())
        return std::nullopt;
    return words;
}

Result<AwsCredentials> parse_credential_process_output(std::string_view out,
                                                       std::chrono::system_clock::time_point now)
{
    const auto document = parse_json_wiped(out);
    const auto* version = document && document->is_object() ? document->get_object().if_contains("Version")
                                                             : nullptr;
    if (version != nullptr && !(version->is_int64() && version->get_int64() == 1) &&
        !(version->is_uint64() && version->get_uint64() == 1))
        return Error(Errc::bad_response, "credential_process output: Version is not 1");
    auto credentials = credentials_from_json(out, "SessionToken", "credential_process output");
    if (!credentials)
        return credentials.error();
    if (version == nullptr)
        return Error(Errc::bad_response, "credential_process output: no Version");
    if (credentials->expiration && *credentials->expiration <= now)
        return Error(Errc::auth, "credential_process output: the credentials have expired (Expiration is past)");
    return credentials;
}

boost::asio::awaitable<Result<AwsCredentials>>
run_credential_process(std::string command, EnvMap env, std::chrono::system_clock::time_point now)
{
    auto argv = split_command_line(command);
    if (!argv)
        co_return Error(Errc::config, "credential_process is not a usable command line (empty, or a quote is not closed)");
    auto run_task = util::run_subprocess(std::move(*argv), std::move(env),
                                         {credential_process_timeout, credential_process_max_output});
    auto ran = co_await std::move(run_task);
    if (!ran)
        co_return with_context(ran.error(), "credential_process");
    // Its output and its stderr may hold credentials: neither is shown.
    if (ran->exit_code != 0)
        co_return Error(Errc::auth, str_cat("credential_process exited with status ",
                                            std::to_string(ran->exit_code)));
    co_return parse_credential_process_output(ran->out, now);
}

} // namespace secrun::auth
