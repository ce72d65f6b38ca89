#include "log.hpp"

#include <cstdio>
#include <ostream>
#include <string>

namespace secrun::log {
namespace {

Level current_level = Level::warn;
std::ostream* current_sink = nullptr;

std::string_view label(Level level) noexcept
{
    switch (level) {
    case Level::error:
        return "error";
    case Level::warn:
        return "warning";
    case Level::info:
        return "info";
    case Level::debug:
        return "debug";
    }
    return "?";
}

} // namespace

void set_level(Level level) noexcept { current_level = level; }
Level level() noexcept { return current_level; }
bool enabled(Level level) noexcept { return level <= current_level; }
void set_sink(std::ostream* sink) noexcept { current_sink = sink; }

void write(Level level, std::string_view message)
{
    if (!enabled(level))
        return;
    std::string line;
    line.reserve(message.size() + 24);
    line.append("secrun: ").append(label(level)).append(": ").append(message);
    // One line per message, whatever the message held.
    for (char& c : line)
        if (c == '\n' || c == '\r')
            c = ' ';
    line.push_back('\n');
    if (current_sink != nullptr) {
        current_sink->write(line.data(), static_cast<std::streamsize>(line.size()));
        current_sink->flush();
    } else {
        std::fwrite(line.data(), 1, line.size(), stderr);
    }
}

} // namespace secrun::log
