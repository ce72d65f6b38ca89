#include "fake_cloud.hpp"

#include <boost/json/serialize.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace secrun::fakes
{
namespace
{

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::vector<Vendor>& vendor_list()
{
    // A function-local static: registration objects in other files may run
    // their constructors before this file's globals are initialised.
    static std::vector<Vendor> vendors;
    return vendors;
}

} // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const
{
    for (const auto& [key, value] : headers)
        if (iequals(key, name))
            return std::string_view(value);
    return std::nullopt;
}

std::optional<std::string_view> HttpRequest::query_param(std::string_view name) const
{
    for (const auto& [key, value] : query)
        if (key == name)
            return std::string_view(value);
    return std::nullopt;
}

std::string HttpRequest::host() const
{
    std::string_view h = header("Host").value_or("");
    if (!h.empty() && h.front() == '[') { // "[::1]:443"
        const auto close = h.find(']');
        h = close == std::string_view::npos ? h.substr(1) : h.substr(1, close - 1);
    } else if (const auto colon = h.rfind(':'); colon != std::string_view::npos) {
        h = h.substr(0, colon);
    }
    std::string out(h);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

HttpResponse HttpResponse::json(unsigned status, const boost::json::value& body)
{
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    r.body = boost::json::serialize(body);
    return r;
}

HttpResponse HttpResponse::text(unsigned status, std::string body)
{
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    r.body = std::move(body);
    return r;
}

void Counters::add(std::string_view name, std::uint64_t n)
{
    auto it = counters_.find(name);
    if (it == counters_.end())
        it = counters_.emplace(std::string(name), 0).first;
    it->second += n;
}

std::uint64_t Counters::get(std::string_view name) const
{
    const auto it = counters_.find(name);
    return it == counters_.end() ? 0 : it->second;
}

void Routes::add(Listener listener, std::string method, std::string path_prefix, Handler handler)
{
    routes_.push_back({listener, std::move(method), std::move(path_prefix), std::move(handler)});
}

std::optional<HttpResponse> Routes::dispatch(const HttpRequest& request) const
{
    for (const Route& route : routes_) {
        if (route.listener != request.listener)
            continue;
        if (!route.method.empty() && route.method != request.method)
            continue;
        if (request.path.rfind(route.path_prefix, 0) != 0)
            continue;
        if (auto response = route.handler(request))
            return response;
    }
    return std::nullopt;
}

std::string ServerInfo::https_url() const
{
    return "https://127.0.0.1:" + std::to_string(https_port);
}

std::string ServerInfo::http_url() const
{
    return "http://127.0.0.1:" + std::to_string(http_port);
}

VendorRegistration::VendorRegistration(std::string_view name, VendorSetupFn setup)
{
    vendor_list().push_back({std::string(name), setup});
}

const std::vector<Vendor>& registered_vendors()
{
    return vendor_list();
}

std::string percent_decode(std::string_view text, bool plus_is_space)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%' && i + 2 < text.size()) {
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += (c == '+' && plus_is_space) ? ' ' : c;
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text)
{
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (text.size() % 4 != 0)
        return std::nullopt;
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    std::size_t padding = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '=') {
            if (i + 2 < text.size()) // '=' only in the last two places
                return std::nullopt;
            ++padding;
            continue;
        }
        if (padding > 0)
            return std::nullopt;
        const auto pos = alphabet.find(c);
        if (pos == std::string_view::npos)
            return std::nullopt;
        buffer = (buffer << 6) | static_cast<unsigned>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xffU);
        }
    }
    return out;
}

std::string sha256_hex(std::string_view data)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

} // namespace secrun::fakes
