#include "manifest/manifest.hpp"

#include "manifest/lexer.hpp"
#include "util/strings.hpp"
#include "util/text.hpp"

#include <map>
#include <optional>

namespace secrun::manifest {

using detail::Token;
using util::quoted;
using util::str_cat;

namespace {

constexpr std::array<std::string_view, 3> entry_option_names = {"optional", "default", "file"};

// Parses the lines of one manifest into entries, collecting every error.
class ManifestParser {
public:
    ManifestParser(std::string_view file_name, Errors& errors) : errors_(errors)
    {
        manifest_.file_name = std::string(file_name);
    }

    Manifest parse(std::string_view text)
    {
        detail::LineReader reader(text);
        while (reader.next(line_, line_number_)) {
            detail::LexError lex_error;
            if (!detail::tokenize(line_, tokens_, lex_error)) {
                error(lex_error.offset, std::move(lex_error.message));
                continue;
            }
            if (!tokens_.empty())
                parse_entry();
        }
        return std::move(manifest_);
    }

private:
    void error(std::size_t offset, std::string_view message)
    {
        errors_.emplace_back(Errc::manifest,
                             str_cat(manifest_.file_name, ":", std::to_string(line_number_), ":",
                                     std::to_string(util::column_at(line_, offset)), ": ", message));
    }

    // NAME [= REFERENCE] [OPTION...], with or without spaces around '='.
    void parse_entry()
    {
        const std::size_t errors_before = errors_.size();
        given_ = {};
        Entry entry;
        entry.origin = str_cat(manifest_.file_name, ":", std::to_string(line_number_));

        const Token& first = tokens_[0];
        std::size_t next = 1;
        std::optional<std::size_t> equals; // offset of '=' when there is one
        std::optional<Token> reference;
        std::string_view name = first.text;
        if (const std::size_t eq = first.text.find('='); eq != std::string_view::npos) {
            name = first.text.substr(0, eq);
            equals = first.offset + eq;
            if (eq + 1 < first.text.size())
                reference = Token{first.text.substr(eq + 1), first.offset + eq + 1};
        } else if (next < tokens_.size() && tokens_[next].text.front() == '=') {
            const Token& token = tokens_[next++];
            equals = token.offset;
            if (token.text.size() > 1)
                reference = Token{token.text.substr(1), token.offset + 1};
        }
        if (equals && !reference && next < tokens_.size())
            reference = tokens_[next++];

        check_name(name, first.offset);
        entry.name = std::string(name);

        if (reference) {
            std::size_t offset = 0;
            auto parsed = parse_reference(reference->text, &offset);
            if (parsed)
                entry.ref = std::move(*parsed);
            else
                error(reference->offset + offset, parsed.error().message);
        } else if (equals) {
            error(*equals, "missing reference after '='");
        } else {
            entry.ref.key = entry.name;
        }

        for (std::size_t i = next; i < tokens_.size(); ++i)
            parse_option(tokens_[i], entry, !equals && i == 1);

        if (errors_.size() == errors_before)
            manifest_.entries.push_back(std::move(entry));
    }

    void check_name(std::string_view name, std::size_t offset)
    {
        if (name.empty())
            return error(offset, "missing variable name before '='");
        if (!util::is_env_name(name))
            return error(offset, str_cat("invalid variable name ", quoted(name),
                                         " (letters, digits and '_', not starting with a digit)"));
        const auto [it, inserted] = first_lines_.try_emplace(std::string(name), line_number_);
        if (!inserted)
            error(offset, str_cat("duplicate variable ", quoted(name), " (first declared on line ",
                                  std::to_string(it->second), ")"));
    }

    // optional | default=VALUE | file | file=PATH
    void parse_option(const Token& token, Entry& entry, bool right_after_name)
    {
        const std::string_view text = token.text;
        if (text.front() == '=')
            return error(token.offset, "unexpected '=' (write NAME = REFERENCE [OPTION...])");
        const std::size_t eq = text.find('=');
        const std::string_view name = text.substr(0, eq);
        const bool has_value = eq != std::string_view::npos;
        const std::string_view raw = has_value ? text.substr(eq + 1) : std::string_view{};
        const std::size_t value_offset = token.offset + eq + 1;

        if (name == "optional") {
            if (has_value)
                return error(token.offset, "option 'optional' takes no value");
            if (given_twice(0, token, name))
                return;
            entry.optional = true;
        } else if (name == "default") {
            if (!has_value)
                return error(token.offset, "option 'default' needs a value (default=VALUE)");
            if (raw.empty())
                return error(token.offset,
                             "option 'default' needs a value (write default=\"\" for an empty one)");
            if (given_twice(1, token, name))
                return;
            auto value = decode_value(raw, value_offset);
            if (!value)
                return;
            entry.default_value = std::move(*value);
            entry.optional = true;
        } else if (name == "file") {
            if (given_twice(2, token, name))
                return;
            if (has_value) {
                if (raw.empty())
                    return error(token.offset, "option 'file' needs a path after '='");
                auto path = decode_value(raw, value_offset);
                if (!path)
                    return;
                if (path->empty() || path->front() != '/')
                    return error(value_offset,
                                 str_cat("file path ", quoted(*path), " is not absolute"));
                entry.file.path = std::move(*path);
            }
            entry.file.enabled = true;
        } else if (right_after_name && text.find("://") != std::string_view::npos) {
            error(token.offset, "missing '=' before the reference (write NAME = REFERENCE)");
        } else {
            std::string hint = util::did_you_mean(name, entry_option_names);
            if (hint.empty() && right_after_name)
                hint = " (a reference comes after '=': NAME = REFERENCE)";
            error(token.offset, str_cat("unknown option ", quoted(name), hint));
        }
    }

    // Notes that entry option `index` (in entry_option_names) was given;
    // reports and returns true when it was given before on this line.
    bool given_twice(std::size_t index, const Token& token, std::string_view name)
    {
        if (given_[index]) {
            error(token.offset, str_cat("option '", name, "' is given twice"));
            return true;
        }
        given_[index] = true;
        return false;
    }

    // "double" (with \" and \\), 'single' (as is) or unquoted (as is).
    std::optional<std::string> decode_value(std::string_view raw, std::size_t offset)
    {
        std::string value;
        std::size_t end = 0; // offset in `raw` just after the value
        if (raw.front() == '"') {
            std::size_t i = 1;
            for (; raw[i] != '"'; ++i) { // the lexer saw the closing quote
                if (raw[i] == '\\') {
                    if (raw[i + 1] != '"' && raw[i + 1] != '\\') {
                        error(offset + i, "unknown escape in double quotes (only \\\" and \\\\)");
                        return std::nullopt;
                    }
                    ++i;
                }
                value += raw[i];
            }
            end = i + 1;
        } else if (raw.front() == '\'') {
            const std::size_t close = raw.find('\'', 1);
            value = std::string(raw.substr(1, close - 1));
            end = close + 1;
        } else {
            if (const auto quote = raw.find_first_of("\"'"); quote != std::string_view::npos) {
                error(offset + quote, "a quote inside an unquoted value (quote the whole value)");
                return std::nullopt;
            }
            return std::string(raw);
        }
        if (end < raw.size()) {
            error(offset + end, "unexpected text after the closing quote");
            return std::nullopt;
        }
        return value;
    }

    Errors& errors_;
    Manifest manifest_;
    std::string_view line_;
    std::size_t line_number_ = 0;
    std::vector<Token> tokens_;
    std::array<bool, entry_option_names.size()> given_{};
    std::map<std::string, std::size_t, std::less<>> first_lines_;
};

} // namespace

Manifest parse(std::string_view text, std::string_view file_name, Errors& errors)
{
    return ManifestParser(file_name, errors).parse(text);
}

std::vector<Entry> entries_from_environment(const EnvMap& env, Errors& errors)
{
    std::vector<Entry> entries;
    for (const auto& [name, value] : env.vars()) {
        if (!util::is_env_name(name))
            continue;
        const std::size_t separator = value.find("://");
        if (separator == std::string::npos || !is_backend_name(value.substr(0, separator)))
            continue; // https://..., postgres://..., plain values: not ours
        auto ref = parse_reference(value);
        if (!ref) {
            errors.emplace_back(Errc::manifest,
                                str_cat("environment variable ", name, ": ", ref.error().message));
            continue;
        }
        Entry entry;
        entry.name = name;
        entry.ref = std::move(*ref);
        entry.origin = "environment";
        entry.from_environment = true;
        entries.push_back(std::move(entry));
    }
    return entries;
}

} // namespace secrun::manifest
