#include "manifest/manifest.hpp"

#include "util/strings.hpp"
#include "util/text.hpp"

#include <algorithm>

namespace secrun::manifest {

using util::quoted;
using util::str_cat;

namespace {

constexpr std::string_view scheme_separator = "://";

// AWS secret names and ARNs, Key Vault and Doppler names, dotenv keys.
bool is_key_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '_' || c == '+' || c == '=' || c == '.' || c == '@' || c == ':' || c == '-';
}

bool is_unreserved(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool option_allowed(std::string_view option, std::string_view backend) noexcept
{
    if (backend.empty())
        return true; // the configured backend: the resolver checks
    if (option == "version")
        return backend == "aws_secrets" || backend == "azure_keyvault";
    return backend == "aws_secrets"; // stage
}

std::size_t option_rank(std::string_view name) noexcept
{
    const auto it = std::find(reference_option_names.begin(), reference_option_names.end(), name);
    return static_cast<std::size_t>(it - reference_option_names.begin());
}

// Parses one reference; the first problem found wins.
class ReferenceParser {
public:
    explicit ReferenceParser(std::string_view text) : text_(text) {}

    Result<Reference> parse(std::size_t* error_offset)
    {
        if (!check_characters() || !parse_backend_and_key() || !parse_options() || !parse_field()) {
            if (error_offset != nullptr)
                *error_offset = error_offset_;
            return Error{Errc::manifest, std::move(error_)};
        }
        std::sort(ref_.options.begin(), ref_.options.end(), [](const auto& a, const auto& b) {
            return option_rank(a.first) < option_rank(b.first);
        });
        return std::move(ref_);
    }

private:
    bool fail(std::size_t offset, std::string message)
    {
        error_offset_ = offset;
        error_ = std::move(message);
        return false;
    }

    // References arrive from manifests and from the environment: refuse
    // anything that cannot be part of one before looking at the structure.
    bool check_characters()
    {
        if (text_.empty())
            return fail(0, "empty reference");
        if (const auto bad = util::invalid_utf8_offset(text_); bad != std::string_view::npos)
            return fail(bad, "invalid UTF-8 in reference");
        for (std::size_t i = 0; i < text_.size(); ++i) {
            const auto c = static_cast<unsigned char>(text_[i]);
            if (c <= 0x20 || c == 0x7f)
                return fail(i, str_cat("invalid character ", util::describe_char(text_.substr(i)),
                                       " in reference"));
        }
        return true;
    }

    bool parse_backend_and_key()
    {
        hash_ = text_.find('#');
        query_ = text_.substr(0, hash_).find('?');
        const std::size_t key_end = std::min(hash_, query_);
        std::size_t key_start = 0;
        const std::size_t separator = text_.find(scheme_separator);
        if (separator != std::string_view::npos && separator < key_end) {
            const std::string_view scheme = text_.substr(0, separator);
            if (scheme.empty())
                return fail(0, "missing backend name before '://'");
            if (!is_backend_name(scheme))
                return fail(0, str_cat("unknown backend ", quoted(scheme),
                                       util::did_you_mean(scheme, backend_names)));
            ref_.backend = std::string(scheme);
            key_start = separator + scheme_separator.size();
        }
        const std::string_view key =
            text_.substr(key_start, std::min(key_end, text_.size()) - key_start);
        if (key.empty()) {
            if (ref_.backend.empty())
                return fail(key_start, "missing key");
            return fail(key_start, str_cat("missing key after '", ref_.backend, "://'"));
        }
        if (key.front() == '=')
            return fail(key_start, "unexpected '=' at the start of the key");
        for (std::size_t i = 0; i < key.size(); ++i) {
            if (!is_key_char(key[i]))
                return fail(key_start + i, str_cat("invalid character ",
                                                   util::describe_char(key.substr(i)), " in key"));
        }
        if (ref_.backend.empty()) {
            // "aws_secrets:prod/db" is a typo for "aws_secrets://prod/db", not a key.
            for (const std::string_view backend : backend_names) {
                if (key.size() > backend.size() && key.substr(0, backend.size()) == backend &&
                    key[backend.size()] == ':')
                    return fail(backend.size(), str_cat("missing '//' after '", backend,
                                                        ":' (write ", backend, "://KEY)"));
            }
        }
        ref_.key = std::string(key);
        return true;
    }

    bool parse_options()
    {
        if (query_ == std::string_view::npos)
            return true;
        const std::size_t end = std::min(hash_, text_.size());
        std::size_t start = query_ + 1;
        for (;;) {
            const std::size_t amp = std::min(text_.find('&', start), end);
            if (!parse_option(start, amp))
                return false;
            if (amp == end)
                return true;
            start = amp + 1;
        }
    }

    // One "name=value" in text_[start, end).
    bool parse_option(std::size_t start, std::size_t end)
    {
        const std::string_view option = text_.substr(start, end - start);
        if (option.empty())
            return fail(start, str_cat("missing option after '", text_.substr(start - 1, 1), "'"));
        const std::size_t eq = option.find('=');
        const std::string_view name = option.substr(0, eq);
        if (name.empty())
            return fail(start, "missing option name before '='");
        if (option_rank(name) == reference_option_names.size())
            return fail(start, str_cat("unknown option ", quoted(name),
                                       util::did_you_mean(name, reference_option_names)));
        if (eq == std::string_view::npos)
            return fail(start + name.size(), str_cat("option '", name, "' needs a value (", name,
                                                     name == "version" ? "=ID)" : "=LABEL)"));
        if (!option_allowed(name, ref_.backend))
            return fail(start, str_cat("option '", name, "' is not supported by backend '",
                                       ref_.backend, "'"));
        if (!ref_.option(name).empty())
            return fail(start, str_cat("option '", name, "' is given twice"));
        const std::size_t value_start = start + eq + 1;
        const std::string_view raw = option.substr(eq + 1);
        if (raw.empty())
            return fail(value_start, str_cat("option '", name, "' has an empty value"));
        std::string value;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] != '%') {
                value += raw[i];
                continue;
            }
            const int high = i + 1 < raw.size() ? hex_value(raw[i + 1]) : -1;
            const int low = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
            if (high < 0 || low < 0)
                return fail(value_start + i,
                            str_cat("bad percent-encoding in the value of option '", name, "'"));
            value += static_cast<char>(high * 16 + low);
            i += 2;
        }
        const bool has_control = std::any_of(value.begin(), value.end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return u < 0x20 || u == 0x7f;
        });
        if (has_control || util::invalid_utf8_offset(value) != std::string_view::npos)
            return fail(value_start, str_cat("the value of option '", name,
                                             "' decodes to a control character or invalid UTF-8"));
        ref_.options.emplace_back(std::string(name), std::move(value));
        return true;
    }

    bool parse_field()
    {
        if (hash_ == std::string_view::npos)
            return true;
        const std::string_view field = text_.substr(hash_ + 1);
        if (field.empty())
            return fail(hash_, "missing field name after '#'");
        std::size_t start = 0;
        for (;;) {
            const std::size_t dot = std::min(field.find('.', start), field.size());
            if (dot == start)
                return fail(hash_ + 1 + start,
                            str_cat("empty segment in field ", quoted(field)));
            if (dot == field.size())
                break;
            start = dot + 1;
        }
        ref_.field = std::string(field);
        return true;
    }

    std::string_view text_;
    std::size_t hash_ = std::string_view::npos;
    std::size_t query_ = std::string_view::npos;
    Reference ref_;
    std::size_t error_offset_ = 0;
    std::string error_;
};

} // namespace

bool is_backend_name(std::string_view name) noexcept
{
    return std::find(backend_names.begin(), backend_names.end(), name) != backend_names.end();
}

std::string_view Reference::option(std::string_view name) const noexcept
{
    for (const auto& [option_name, value] : options) {
        if (option_name == name)
            return value;
    }
    return {};
}

std::string Reference::to_string(std::string_view default_backend) const
{
    static constexpr char hex[] = "0123456789ABCDEF";
    const std::string_view shown_backend = backend.empty() ? default_backend : backend;
    std::string out;
    if (!shown_backend.empty())
        out = str_cat(shown_backend, scheme_separator);
    out += key;
    char separator = '?';
    for (const auto& [name, value] : options) {
        out += separator;
        out += name;
        out += '=';
        for (const char c : value) {
            if (is_unreserved(c)) {
                out += c;
            } else {
                const auto u = static_cast<unsigned char>(c);
                out += '%';
                out += hex[u >> 4];
                out += hex[u & 0xf];
            }
        }
        separator = '&';
    }
    if (!field.empty())
        out += str_cat("#", field);
    return out;
}

Result<Reference> parse_reference(std::string_view text, std::size_t* error_offset)
{
    return ReferenceParser(text).parse(error_offset);
}

} // namespace secrun::manifest
