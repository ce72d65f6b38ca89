// Diagnostics go to stderr only (stdout belongs to the command's pipeline),
// each line prefixed "secrun: <level>: ". Never pass a secret value here.
#pragma once

#include <iosfwd>
#include <string_view>

namespace secrun::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

void set_level(Level level) noexcept;
[[nodiscard]] Level level() noexcept;
[[nodiscard]] bool enabled(Level level) noexcept;

// Tests capture output by pointing the sink at a stringstream; nullptr
// restores stderr.
void set_sink(std::ostream* sink) noexcept;

void write(Level level, std::string_view message);
inline void error(std::string_view m) { write(Level::error, m); }
inline void warn(std::string_view m) { write(Level::warn, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void debug(std::string_view m) { write(Level::debug, m); }

} // namespace secrun::log
