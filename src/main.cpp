// secrun: resolve a program's secrets, then exec it. See app.cpp for the steps.
#include "app.hpp"
#include "log.hpp"

#include <exception>
#include <string>

extern char** environ;

int main(int argc, char** argv)
{
    // First of all, before anything can change it: the signal state the
    // command must inherit.
    const auto signals = secrun::exec::SignalState::capture();
    try {
        return secrun::app::run(argc, argv, environ, signals);
    } catch (const std::exception& e) {
        secrun::log::error(std::string("internal error: ") + e.what());
    } catch (...) {
        secrun::log::error("internal error");
    }
    return 125;
}
