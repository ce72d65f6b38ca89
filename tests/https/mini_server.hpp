// Minimal scriptable loopback servers for the HTTPS client tests: an HTTP(S)
// server whose replies (and misbehaviour) are scripted per request, and a
// CONNECT proxy. Both run as coroutines on the test's io_context, on
// 127.0.0.1 with an ephemeral port. Their state is shared with their
// coroutines, so destroying a server while the io_context still holds its
// suspended sessions is safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secrun::testing {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

struct Reply {
    enum class Kind {
        respond,        // answer normally
        stall,          // read the request, never answer
        reset,          // read the request, then reset the connection (RST)
        close_mid_body, // send the headers and half of the body, then close
        reset_mid_body, // the same, then reset the connection (RST)
    };
    Kind kind = Kind::respond;
    unsigned status = 200;
    HeaderPairs headers;
    std::string body = "ok";
    std::chrono::milliseconds delay{0}; // wait this long before answering
    // Close the connection after answering without saying so (no
    // "Connection: close"): the client's next request on it finds it closed.
    bool close_after = false;

    static Reply with(Kind kind)
    {
        Reply r;
        r.kind = kind;
        return r;
    }
    static Reply status_only(unsigned status, HeaderPairs headers = {})
    {
        Reply r;
        r.status = status;
        r.headers = std::move(headers);
        return r;
    }
};

// A request as the server received it.
struct Seen {
    std::string method;
    std::string target;
    HeaderPairs headers;
    std::string body;
    unsigned connection = 0; // 1-based number of the connection it came on

    [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

class MiniServer {
public:
    // Serves TLS with `tls` when given, plain HTTP otherwise.
    MiniServer(boost::asio::io_context& ioc, std::shared_ptr<boost::asio::ssl::context> tls);
    ~MiniServer();

    [[nodiscard]] unsigned short port() const;
    // Replies for the next requests, in order; after them every request gets 200 "ok".
    void script(std::vector<Reply> replies);

    [[nodiscard]] const std::vector<Seen>& requests() const;
    [[nodiscard]] unsigned connections() const;     // accepted
    [[nodiscard]] unsigned handshakes() const;      // completed TLS handshakes
    [[nodiscard]] unsigned failed_handshakes() const;
    [[nodiscard]] unsigned max_concurrent() const;  // most connections open at once

    struct State;

private:
    std::shared_ptr<State> state_;
};

class MiniProxy {
public:
    // Tunnels every CONNECT to 127.0.0.1:target_port, whatever host it names.
    // With a non-empty `expected_authorization` ("Basic ..."), a CONNECT
    // without exactly that Proxy-Authorization gets 407.
    MiniProxy(boost::asio::io_context& ioc, unsigned short target_port,
              std::string expected_authorization);
    ~MiniProxy();

    [[nodiscard]] unsigned short port() const;
    [[nodiscard]] const std::vector<std::string>& connect_targets() const; // "host:port"
    [[nodiscard]] const std::vector<std::string>& authorizations() const;  // as received

    struct State;

private:
    std::shared_ptr<State> state_;
};

} // namespace secrun::testing
