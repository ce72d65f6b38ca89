// The Doppler fake: GET /v3/configs/config/secrets/download on the TLS port,
// as protocols/azure_doppler.md §4 describes the real service.
//
// Scenario section ("vendors": {"doppler": ...}):
//   {
//     "projects": {
//       "muse": {                                  // project
//         "prd": {                                 // config
//           "environment": "prd",                  // optional; default: the config
//                                                  //   name up to its first '_'
//           "secrets": {"DB_URL": "postgres://…"}  // string values
//         }
//       }
//     },
//     "tokens": {
//       "dp.st.prd.AbC": {"project": "muse", "config": "prd"}, // service token: one config
//       "dp.pt.XyZ": {},                          // personal/CLI/service-account token
//       "dp.pt.Other": {"projects": ["other"]}    // may read only these projects
//     }
//   }
//
// Behaviour (strict, like the service):
// * Auth: `Authorization: Bearer <token>` or `Basic base64(<token>:)`. A missing
//   or unknown token: 401 {"messages":["Invalid Auth token"],"success":false}.
// * Service tokens (dp.st.) imply their project and config; project/config
//   parameters naming another one: 403. Other tokens need both `project` and
//   `config`: 400 when one is missing; unknown project or config: 404
//   "Could not find requested project|config '<name>'"; a project outside
//   the token's "projects": 403.
// * `format`: json (default), env, env-no-quotes, docker. dotnet-json and
//   yaml (real formats this fake does not implement): 501; anything else: 400.
//   `name_transformer`: 501 (not implemented). `secrets=A,B`: only those.
// * The body includes DOPPLER_PROJECT, DOPPLER_CONFIG and DOPPLER_ENVIRONMENT
//   like the real service, keys sorted; an ETag header, and 304 with an empty
//   body when If-None-Match matches it.
// * Counters: doppler.downloads (200), doppler.not_modified (304),
//   doppler.auth_failures (401), doppler.errors (other 4xx/5xx).
// Error texts other than "Invalid Auth token" and "Could not find requested
// config" are not confirmed against the live service.
#include "fake_cloud.hpp"

#include <boost/json.hpp>

#include <map>
#include <memory>
#include <set>

namespace secrun::fakes
{
namespace
{

namespace json = boost::json;

constexpr std::string_view download_path = "/v3/configs/config/secrets/download";

struct Config {
    std::string environment;
    std::map<std::string, std::string> secrets;
};

struct Token {
    std::string project; // service tokens: the one project and config they read
    std::string config;
    std::optional<std::set<std::string>> projects; // others: allowed projects (nullopt: all)
    [[nodiscard]] bool service() const { return !project.empty(); }
};

struct DopplerState {
    std::map<std::string, std::map<std::string, Config>> projects;
    std::map<std::string, Token> tokens;
};

HttpResponse doppler_error(unsigned status, std::string message)
{
    return HttpResponse::json(
        status, json::object{{"messages", json::array{json::string(message)}}, {"success", false}});
}

std::optional<std::string> load_projects(const json::value& value, DopplerState& state)
{
    if (!value.is_object())
        return std::string("projects: expected an object");
    for (const auto& project : value.get_object()) {
        const std::string pname(project.key());
        if (!project.value().is_object())
            return "projects." + pname + ": expected an object of configs";
        for (const auto& config : project.value().get_object()) {
            const std::string where = "projects." + pname + "." + std::string(config.key());
            if (!config.value().is_object())
                return where + ": expected an object";
            Config c;
            const std::string cname(config.key());
            c.environment = cname.substr(0, cname.find('_'));
            for (const auto& field : config.value().get_object()) {
                if (field.key() == "environment" && field.value().is_string()) {
                    c.environment = std::string(field.value().get_string());
                } else if (field.key() == "secrets" && field.value().is_object()) {
                    for (const auto& s : field.value().get_object()) {
                        if (!s.value().is_string())
                            return where + ".secrets." + std::string(s.key()) +
                                   ": expected a string";
                        c.secrets[std::string(s.key())] = std::string(s.value().get_string());
                    }
                } else {
                    return where + ": unexpected key '" + std::string(field.key()) + "'";
                }
            }
            state.projects[pname][cname] = std::move(c);
        }
    }
    return std::nullopt;
}

std::optional<std::string> load_tokens(const json::value& value, DopplerState& state)
{
    if (!value.is_object())
        return std::string("tokens: expected an object");
    for (const auto& entry : value.get_object()) {
        const std::string name(entry.key());
        // Scenario errors name the token: scenario tokens are test data.
        const std::string where = "tokens." + name;
        if (!entry.value().is_object())
            return where + ": expected an object";
        const json::object& o = entry.value().get_object();
        Token token;
        for (const auto& field : o) {
            if ((field.key() == "project" || field.key() == "config") &&
                field.value().is_string()) {
                (field.key() == "project" ? token.project : token.config) =
                    std::string(field.value().get_string());
            } else if (field.key() == "projects" && field.value().is_array()) {
                token.projects.emplace();
                for (const auto& p : field.value().get_array()) {
                    if (!p.is_string())
                        return where + ".projects: expected strings";
                    token.projects->insert(std::string(p.get_string()));
                }
            } else {
                return where + ": unexpected key '" + std::string(field.key()) + "'";
            }
        }
        const bool service = name.rfind("dp.st.", 0) == 0;
        if (service) {
            if (token.project.empty() || token.config.empty() || token.projects)
                return where + ": a service token needs \"project\" and \"config\" (only)";
            const auto p = state.projects.find(token.project);
            if (p == state.projects.end() || p->second.count(token.config) == 0)
                return where + ": no config " + token.project + "/" + token.config;
        } else if (!token.project.empty() || !token.config.empty()) {
            return where + ": only service tokens (dp.st.) name a project and config";
        }
        state.tokens[name] = std::move(token);
    }
    return std::nullopt;
}

// The token from "Bearer <t>" or "Basic base64(<t>:)", or nullopt.
std::optional<std::string> token_of(const HttpRequest& request)
{
    const auto auth = request.header("Authorization");
    if (!auth)
        return std::nullopt;
    const auto space = auth->find(' ');
    if (space == std::string_view::npos)
        return std::nullopt;
    std::string scheme(auth->substr(0, space));
    for (char& c : scheme)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string_view credentials = auth->substr(space + 1);
    if (scheme == "bearer")
        return std::string(credentials);
    if (scheme == "basic") {
        auto decoded = base64_decode(credentials);
        if (!decoded || decoded->empty() || decoded->back() != ':')
            return std::nullopt;
        decoded->pop_back();
        return decoded;
    }
    return std::nullopt;
}

std::string render(const std::map<std::string, std::string>& secrets, std::string_view format)
{
    if (format == "json") {
        json::object body;
        for (const auto& [name, value] : secrets)
            body[name] = value;
        return json::serialize(body); // Boost.JSON keeps insertion order: sorted
    }
    std::string out;
    for (const auto& [name, value] : secrets) {
        if (format == "env") {
            std::string escaped;
            for (char c : value) {
                if (c == '"' || c == '\\')
                    escaped += '\\';
                if (c == '\n') {
                    escaped += "\\n";
                    continue;
                }
                escaped += c;
            }
            out += name + "=\"" + escaped + "\"\n";
        } else { // env-no-quotes, docker
            out += name + "=" + value + "\n";
        }
    }
    return out;
}

HttpResponse download(const DopplerState& state, Counters& counters, const HttpRequest& request)
{
    const auto fail = [&](unsigned status, std::string message) {
        counters.add(status == 401 ? "doppler.auth_failures" : "doppler.errors");
        return doppler_error(status, std::move(message));
    };
    const auto token_text = token_of(request);
    const auto token_it = token_text ? state.tokens.find(*token_text) : state.tokens.end();
    if (token_it == state.tokens.end())
        return fail(401, "Invalid Auth token");
    const Token& token = token_it->second;

    const std::string format(request.query_param("format").value_or("json"));
    if (format == "dotnet-json" || format == "yaml")
        return fail(501, "fake_cloud: format '" + format + "' is not implemented");
    if (format != "json" && format != "env" && format != "env-no-quotes" && format != "docker")
        return fail(400, "Invalid format '" + format + "'");
    if (request.query_param("name_transformer"))
        return fail(501, "fake_cloud: name_transformer is not implemented");

    std::string project(request.query_param("project").value_or(""));
    std::string config(request.query_param("config").value_or(""));
    if (token.service()) {
        if ((!project.empty() && project != token.project) ||
            (!config.empty() && config != token.config))
            return fail(403, "This token does not have access to requested config");
        project = token.project;
        config = token.config;
    } else {
        if (project.empty())
            return fail(400, "You must specify a project");
        if (config.empty())
            return fail(400, "You must specify a config");
    }
    const auto p = state.projects.find(project);
    if (p == state.projects.end())
        return fail(404, "Could not find requested project '" + project + "'");
    if (token.projects && token.projects->count(project) == 0)
        return fail(403, "You do not have access to project '" + project + "'");
    const auto c = p->second.find(config);
    if (c == p->second.end())
        return fail(404, "Could not find requested config '" + config + "'");

    std::map<std::string, std::string> secrets = c->second.secrets;
    secrets["DOPPLER_PROJECT"] = project;
    secrets["DOPPLER_CONFIG"] = config;
    secrets["DOPPLER_ENVIRONMENT"] = c->second.environment;
    if (const auto only = request.query_param("secrets")) {
        std::set<std::string, std::less<>> wanted;
        std::string_view rest = *only;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            wanted.insert(std::string(rest.substr(0, comma)));
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
        std::erase_if(secrets, [&](const auto& kv) { return wanted.count(kv.first) == 0; });
    }

    HttpResponse response;
    response.body = render(secrets, format);
    // Built by appending: GCC 12 reports a false -Wrestrict for "\"" + std::string.
    std::string etag = "\"";
    etag += sha256_hex(response.body);
    etag += '"';
    response.headers.emplace_back("Content-Type", format == "json"
                                                      ? "application/json; charset=utf-8"
                                                      : "text/plain; charset=utf-8");
    response.headers.emplace_back("ETag", etag);
    if (request.header("If-None-Match") == std::optional<std::string_view>(etag)) {
        counters.add("doppler.not_modified");
        response.status = 304;
        response.body.clear();
        return response;
    }
    counters.add("doppler.downloads");
    return response;
}

std::optional<std::string> setup_doppler(VendorSetup& setup)
{
    auto state = std::make_shared<DopplerState>();
    for (const auto& entry : setup.section)
        if (entry.key() != "projects" && entry.key() != "tokens")
            return "unknown key '" + std::string(entry.key()) + "'";
    if (const auto* projects = setup.section.if_contains("projects"))
        if (auto error = load_projects(*projects, *state))
            return error;
    if (const auto* tokens = setup.section.if_contains("tokens"))
        if (auto error = load_tokens(*tokens, *state))
            return error;

    Counters& counters = setup.counters; // outlives the routes: both belong to the server
    setup.routes.add(Listener::https, "GET", std::string(download_path),
                     [state, &counters](const HttpRequest& request) -> std::optional<HttpResponse> {
                         if (request.path != download_path)
                             return std::nullopt;
                         return download(*state, counters, request);
                     });
    return std::nullopt;
}

const VendorRegistration registration{"doppler", &setup_doppler};

} // namespace
} // namespace secrun::fakes
