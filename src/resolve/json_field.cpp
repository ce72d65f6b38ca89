// "#a.b" selection with Boost.JSON's SAX parser (basic_parser): nothing but
// the selected value is kept, numbers come out exactly as written (no
// round-trip through double), and every buffer that held part of the value
// is wiped. Duplicate keys: the last one wins, as in JavaScript and Python.
#include "resolve/json_field.hpp"

#include "util/strings.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace secrun::resolve {

namespace {

namespace json = boost::json;
using util::quoted;
using util::str_cat;

constexpr std::size_t max_depth = 64;

enum class Kind { none, object, array, string, number, boolean, null };

std::string_view describe(Kind kind)
{
    switch (kind) {
    case Kind::object: return "an object";
    case Kind::array: return "an array";
    case Kind::string: return "a string";
    case Kind::number: return "a number";
    case Kind::boolean: return "a boolean";
    default: return "null";
    }
}

// A non-negative decimal index without leading zeros ("0", "12").
std::optional<std::size_t> parse_index(std::string_view s) noexcept
{
    if (s.empty() || s.size() > 9 || (s.size() > 1 && s[0] == '0'))
        return std::nullopt;
    std::size_t value = 0;
    for (const char c : s) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + static_cast<std::size_t>(c - '0');
    }
    return value;
}

void append_escaped(std::string& out, std::string_view s)
{
    static constexpr char hex[] = "0123456789abcdef";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (u < 0x20) {
                out += "\\u00";
                out += hex[u >> 4];
                out += hex[u & 0xf];
            } else {
                out += c;
            }
        }
    }
}

// Follows the parse, records what exists along the path, and writes the
// selected value (compact JSON for objects and arrays) into `out`.
class FieldHandler {
public:
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);

    FieldHandler(const std::vector<std::string_view>& path, std::size_t input_size)
        : path_(path), found_(path.size() + 1, Kind::none)
    {
        // The output is never longer than the input (escapes and white space
        // only shrink), so it never reallocates and leaves no copy behind.
        out_.reserve(input_size);
    }

    ~FieldHandler()
    {
        cleanse(out_);
        cleanse(key_);
    }

    FieldHandler(const FieldHandler&) = delete;
    FieldHandler& operator=(const FieldHandler&) = delete;

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

    bool on_object_begin(json::error_code&) { return open(Kind::object, '{'); }
    bool on_object_end(std::size_t, json::error_code&) { return close('}'); }
    bool on_array_begin(json::error_code&) { return open(Kind::array, '['); }
    bool on_array_end(std::size_t, json::error_code&) { return close(']'); }

    bool on_key_part(json::string_view s, std::size_t, json::error_code&)
    {
        key_part(s);
        return true;
    }
    bool on_key(json::string_view s, std::size_t, json::error_code&)
    {
        key_part(s);
        in_key_ = false;
        if (capturing_) {
            comma();
            out_ += '"';
            append_escaped(out_, key_);
            out_ += "\":";
        }
        return true;
    }

    bool on_string_part(json::string_view s, std::size_t, json::error_code&)
    {
        string_part(s);
        return true;
    }
    bool on_string(json::string_view s, std::size_t, json::error_code&)
    {
        string_part(s);
        in_string_ = false;
        if (capturing_ && nested())
            out_ += '"';
        return scalar_end();
    }

    bool on_number_part(json::string_view s, json::error_code&)
    {
        number_part(s);
        return true;
    }
    bool on_int64(std::int64_t, json::string_view s, json::error_code&) { return number_end(s); }
    bool on_uint64(std::uint64_t, json::string_view s, json::error_code&) { return number_end(s); }
    bool on_double(double, json::string_view s, json::error_code&) { return number_end(s); }

    bool on_bool(bool b, json::error_code&)
    {
        begin_value(Kind::boolean);
        if (capturing_)
            out_ += b ? "true" : "false";
        return scalar_end();
    }
    bool on_null(json::error_code&)
    {
        begin_value(Kind::null);
        if (capturing_)
            out_ += "null";
        return scalar_end();
    }

    [[nodiscard]] bool selected() const noexcept { return captured_; }
    [[nodiscard]] std::string& output() noexcept { return out_; }
    // What was found at each prefix of the path (found()[0]: the document).
    [[nodiscard]] const std::vector<Kind>& found() const noexcept { return found_; }

private:
    struct Frame {
        bool is_array = false;
        bool on_path = false; // this container is the value at prefix `depth` of the path
        std::size_t next_index = 0;
        bool need_comma = false; // while capturing
    };

    // Inside the selected value (below its own level).
    [[nodiscard]] bool nested() const noexcept { return stack_.size() > capture_depth_; }

    void comma()
    {
        if (!nested())
            return;
        if (stack_.back().need_comma)
            out_ += ',';
        stack_.back().need_comma = true;
    }

    // Called once at the start of every value.
    void begin_value(Kind kind)
    {
        const std::size_t depth = stack_.size();
        bool on_path = true;
        if (depth > 0) {
            Frame& parent = stack_.back();
            const std::size_t index = parent.is_array ? parent.next_index++ : 0;
            if (capturing_ && parent.is_array)
                comma();
            on_path = parent.on_path && (parent.is_array ? parse_index(path_[depth - 1]) == index
                                                         : key_ == path_[depth - 1]);
        }
        value_on_path_ = on_path && depth < path_.size();
        if (!on_path)
            return;
        // A later duplicate key replaces what an earlier one led to.
        std::fill(found_.begin() + static_cast<std::ptrdiff_t>(depth), found_.end(), Kind::none);
        found_[depth] = kind;
        captured_ = false;
        cleanse(out_);
        if (depth == path_.size()) {
            capturing_ = true;
            capture_depth_ = depth;
        }
    }

    bool open(Kind kind, char bracket)
    {
        begin_value(kind);
        if (capturing_)
            out_ += bracket;
        stack_.push_back(Frame{kind == Kind::array, value_on_path_, 0, false});
        return true;
    }

    bool close(char bracket)
    {
        stack_.pop_back();
        if (capturing_)
            out_ += bracket;
        return scalar_end();
    }

    // The end of a value: the selection is complete when it was the selected one.
    bool scalar_end()
    {
        if (capturing_ && stack_.size() == capture_depth_) {
            capturing_ = false;
            captured_ = true;
        }
        return true;
    }

    void key_part(json::string_view s)
    {
        if (!in_key_) {
            key_.clear();
            in_key_ = true;
        }
        key_.append(s.data(), s.size());
    }

    void string_part(json::string_view s)
    {
        if (!in_string_) {
            in_string_ = true;
            begin_value(Kind::string);
            if (capturing_ && nested())
                out_ += '"';
        }
        if (!capturing_)
            return;
        if (nested())
            append_escaped(out_, std::string_view(s.data(), s.size()));
        else
            out_.append(s.data(), s.size());
    }

    void number_part(json::string_view s)
    {
        if (!in_number_) {
            in_number_ = true;
            begin_value(Kind::number);
        }
        if (capturing_)
            out_.append(s.data(), s.size());
    }

    bool number_end(json::string_view s)
    {
        number_part(s);
        in_number_ = false;
        return scalar_end();
    }

    const std::vector<std::string_view>& path_;
    std::vector<Kind> found_;
    std::vector<Frame> stack_;
    std::string key_;
    std::string out_;
    bool in_key_ = false;
    bool in_string_ = false;
    bool in_number_ = false;
    bool value_on_path_ = false;
    bool capturing_ = false;
    bool captured_ = false;
    std::size_t capture_depth_ = 0;
};

// "field 'db.port' not found ('port' is missing in 'db')" and friends.
Error not_found(std::string_view field, const std::vector<std::string_view>& path,
                const std::vector<Kind>& found)
{
    std::size_t depth = 0; // the deepest prefix that exists
    while (depth + 1 < found.size() && found[depth + 1] != Kind::none)
        ++depth;
    const std::string_view segment = path[depth];
    // The path's segments are views into `field`: the prefix ends before segment's dot.
    const auto segment_start = static_cast<std::size_t>(segment.data() - field.data());
    const std::string_view prefix = field.substr(0, depth == 0 ? 0 : segment_start - 1);
    const std::string where = depth == 0 ? std::string("the value") : quoted(prefix);
    std::string reason;
    switch (found[depth]) {
    case Kind::object:
        if (depth == 0 && path.size() == 1)
            return Error{Errc::not_found, str_cat("field ", quoted(field), " not found")};
        reason = depth == 0 ? str_cat(quoted(segment), " is missing")
                            : str_cat(quoted(segment), " is missing in ", where);
        break;
    case Kind::array:
        if (parse_index(segment))
            reason = str_cat(where, " has no element ", segment);
        else
            reason = str_cat(where, " is an array and ", quoted(segment), " is not an index");
        break;
    default:
        reason = str_cat(where, " is ", describe(found[depth]), ", not an object");
        break;
    }
    return Error{Errc::not_found, str_cat("field ", quoted(field), " not found (", reason, ")")};
}

} // namespace

Result<SecretString> select_json_field(std::string_view json_text, std::string_view field)
{
    const std::vector<std::string_view> path = util::split(field, '.');
    if (std::any_of(path.begin(), path.end(), [](std::string_view s) { return s.empty(); }))
        return Error{Errc::value, str_cat("invalid field ", quoted(field))};

    json::parse_options options;
    options.max_depth = max_depth;
    json::basic_parser<FieldHandler> parser(options, path, json_text.size());
    json::error_code ec;
    const std::size_t used = parser.write_some(false, json_text.data(), json_text.size(), ec);
    if (ec == json::error::too_deep)
        return Error{Errc::value, str_cat("value is nested deeper than ", std::to_string(max_depth),
                                          " levels, cannot select field ", quoted(field))};
    if (ec || used != json_text.size())
        return Error{Errc::value, str_cat("value is not JSON, cannot select field ", quoted(field))};
    if (!parser.handler().selected())
        return not_found(field, path, parser.handler().found());
    return SecretString(std::move(parser.handler().output()));
}

} // namespace secrun::resolve
