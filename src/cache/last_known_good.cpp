#include "cache/last_known_good.hpp"

#include "util/encoding.hpp"
#include "util/strings.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

namespace secrun::cache {

namespace {

using util::str_cat;

constexpr std::string_view magic = "SRLKG1";
constexpr unsigned char format_version = 1;
constexpr std::size_t header_size = magic.size() + 1;
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;
constexpr std::size_t min_file_size = header_size + nonce_size + tag_size;
constexpr std::size_t entry_fields = 5;
constexpr std::size_t min_entry_size = entry_fields * 4;

// A byte buffer that held plaintext; wiped however the function returns.
// Sized once up front: growing a std::string would free unwiped copies.
struct Wiped {
    std::string bytes;
    Wiped() = default;
    Wiped(const Wiped&) = delete;
    Wiped& operator=(const Wiped&) = delete;
    ~Wiped() { cleanse(bytes); }
};

std::string errno_text(int err) { return std::generic_category().message(err); }

std::string directory_of(const std::string& path)
{
    std::string dir = std::filesystem::path(path).parent_path().string();
    return dir.empty() ? std::string(".") : dir;
}

// ---- plaintext encoding ----------------------------------------------------

void put_u32(std::string& out, std::uint32_t v)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        out += static_cast<char>((v >> shift) & 0xff);
}

void put_u64(std::string& out, std::uint64_t v)
{
    for (int shift = 56; shift >= 0; shift -= 8)
        out += static_cast<char>((v >> shift) & 0xff);
}

void put_bytes(std::string& out, std::string_view bytes)
{
    put_u32(out, static_cast<std::uint32_t>(bytes.size()));
    out.append(bytes);
}

// Reads the plaintext; every length is checked against what is left.
class Reader {
public:
    explicit Reader(std::string_view data) : rest_(data) {}

    bool u32(std::uint32_t& v)
    {
        std::uint64_t wide = 0;
        if (!take(4, wide))
            return false;
        v = static_cast<std::uint32_t>(wide);
        return true;
    }
    bool u64(std::uint64_t& v) { return take(8, v); }
    bool bytes(std::string_view& out)
    {
        std::uint32_t n = 0;
        if (!u32(n) || n > rest_.size())
            return false;
        out = rest_.substr(0, n);
        rest_.remove_prefix(n);
        return true;
    }
    [[nodiscard]] std::size_t left() const noexcept { return rest_.size(); }

private:
    bool take(std::size_t n, std::uint64_t& v)
    {
        if (rest_.size() < n)
            return false;
        v = 0;
        for (std::size_t i = 0; i < n; ++i)
            v = (v << 8) | static_cast<unsigned char>(rest_[i]);
        rest_.remove_prefix(n);
        return true;
    }
    std::string_view rest_;
};

// ---- AES-256-GCM -----------------------------------------------------------

struct CipherDeleter {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherDeleter>;

const unsigned char* bytes_of(std::string_view s) noexcept
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

// header || nonce || ciphertext || tag, or nullopt when OpenSSL fails.
std::optional<std::string> seal(const CacheKey& key, std::string_view plaintext)
{
    std::string file;
    file.reserve(min_file_size + plaintext.size());
    file.append(magic);
    file += static_cast<char>(format_version);
    std::array<unsigned char, nonce_size> nonce{};
    if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1)
        return std::nullopt;
    file.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());

    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    std::string ciphertext(plaintext.size(), '\0');
    std::array<unsigned char, tag_size> tag{};
    auto* out = reinterpret_cast<unsigned char*>(ciphertext.data());
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size), nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes().data(), nonce.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(file), static_cast<int>(header_size)) != 1 ||
        EVP_EncryptUpdate(ctx.get(), out, &len, bytes_of(plaintext), static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), out + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size), tag.data()) != 1)
        return std::nullopt;
    file.append(ciphertext);
    file.append(reinterpret_cast<const char*>(tag.data()), tag.size());
    return file;
}

// Decrypts a whole file (already checked for magic, version and minimum
// size) into `plaintext`; false when the tag does not verify.
bool open_sealed(const CacheKey& key, std::string_view file, Wiped& plaintext)
{
    const std::string_view header = file.substr(0, header_size);
    const std::string_view nonce = file.substr(header_size, nonce_size);
    const std::string_view ciphertext =
        file.substr(header_size + nonce_size, file.size() - min_file_size);
    std::array<unsigned char, tag_size> tag{};
    std::memcpy(tag.data(), file.data() + file.size() - tag_size, tag_size);

    plaintext.bytes.assign(ciphertext.size(), '\0');
    unsigned char scratch = 0; // a valid pointer when the ciphertext is empty
    auto* out = ciphertext.empty() ? &scratch : reinterpret_cast<unsigned char*>(plaintext.bytes.data());
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    return ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size), nullptr) == 1 &&
           EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes().data(), bytes_of(nonce)) == 1 &&
           EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(header), static_cast<int>(header.size())) == 1 &&
           EVP_DecryptUpdate(ctx.get(), out, &len, bytes_of(ciphertext), static_cast<int>(ciphertext.size())) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size), tag.data()) == 1 &&
           EVP_DecryptFinal_ex(ctx.get(), out + len, &len) == 1;
}

// ---- files -----------------------------------------------------------------

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd()
    {
        if (fd >= 0)
            ::close(fd);
    }
    int release() noexcept { return std::exchange(fd, -1); }
};

// The temporary file of store(): removed unless it was renamed into place.
struct TempFile {
    std::string path;
    bool renamed = false;
    ~TempFile()
    {
        if (!path.empty() && !renamed)
            ::unlink(path.c_str());
    }
};

bool write_all(int fd, std::string_view data, int& err)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string random_suffix()
{
    std::array<unsigned char, 8> r{};
    if (RAND_bytes(r.data(), static_cast<int>(r.size())) != 1)
        return std::to_string(::getpid()); // O_EXCL still refuses a collision
    return util::hex_lower(std::string_view(reinterpret_cast<const char*>(r.data()), r.size()));
}

} // namespace

// ---- public functions --------------------------------------------------------------

std::string manifest_fingerprint(std::string_view canonical_manifest)
{
    std::array<unsigned char, 32> digest{};
    unsigned int len = 0;
    if (EVP_Digest(canonical_manifest.data(), canonical_manifest.size(), digest.data(), &len,
                   EVP_sha256(), nullptr) != 1)
        return {}; // cannot happen with the built-in SHA-256; an empty one never matches a file's
    return util::hex_lower(std::string_view(reinterpret_cast<const char*>(digest.data()), len));
}

Result<void> store(const std::string& path, const CacheKey& key, std::string_view fingerprint,
                   const std::vector<CachedEntry>& entries, std::chrono::system_clock::time_point now)
{
    const auto failure = [&path](std::string_view what) {
        return Error{Errc::io, str_cat("cannot write cache ", util::quoted(path), ": ", what)};
    };

    // 1. Encode exactly once into a buffer of the final size.
    std::size_t size = 8 + 4 + fingerprint.size() + 4;
    for (const CachedEntry& e : entries)
        size += min_entry_size + e.name.size() + e.value.size() + e.backend.size() + e.source.size() +
                e.version.size();
    if (size > max_file_size - min_file_size)
        return failure(str_cat("the resolved set is too large (", std::to_string(size + min_file_size),
                               " bytes, at most ", std::to_string(max_file_size), ")"));
    Wiped plaintext;
    plaintext.bytes.reserve(size);
    const auto written_at = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    put_u64(plaintext.bytes, static_cast<std::uint64_t>(written_at));
    put_bytes(plaintext.bytes, fingerprint);
    put_u32(plaintext.bytes, static_cast<std::uint32_t>(entries.size()));
    for (const CachedEntry& e : entries) {
        put_bytes(plaintext.bytes, e.name);
        put_bytes(plaintext.bytes, e.value.reveal());
        put_bytes(plaintext.bytes, e.backend);
        put_bytes(plaintext.bytes, e.source);
        put_bytes(plaintext.bytes, e.version);
    }

    if (plaintext.bytes.size() != size) // the reserve() above was wrong: copies may be left unwiped
        return Error{Errc::internal, "cache plaintext size miscomputed"};

    // 2. Seal.
    std::optional<std::string> file = seal(key, plaintext.bytes);
    if (!file)
        return failure("AES-256-GCM encryption failed");

    // 3. Write a new file beside the old one, make it durable, rename it over.
    const std::string dir = directory_of(path);
    TempFile temp{str_cat(path, ".tmp-", random_suffix())};
    Fd fd(::open(temp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.fd < 0) {
        const int err = errno;
        temp.path.clear(); // not ours to remove
        return failure(str_cat("cannot create a temporary file in ", util::quoted(dir), ": ", errno_text(err)));
    }
    int err = 0;
    if (::fchmod(fd.fd, 0600) != 0) // independent of the umask
        return failure(str_cat("chmod failed: ", errno_text(errno)));
    if (!write_all(fd.fd, *file, err))
        return failure(str_cat("write failed: ", errno_text(err)));
    if (::fsync(fd.fd) != 0)
        return failure(str_cat("fsync failed: ", errno_text(errno)));
    if (::close(fd.release()) != 0)
        return failure(str_cat("close failed: ", errno_text(errno)));
    if (::rename(temp.path.c_str(), path.c_str()) != 0)
        return failure(str_cat("rename failed: ", errno_text(errno)));
    temp.renamed = true;

    // 4. Make the rename itself durable. Some file systems cannot fsync a
    //    directory (EINVAL); the file is in place either way.
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.fd < 0 || (::fsync(dir_fd.fd) != 0 && errno != EINVAL))
        return failure(str_cat("fsync of directory ", util::quoted(dir), " failed: ", errno_text(errno)));
    return {};
}

Result<Loaded> load(const std::string& path, const CacheKey& key, std::string_view fingerprint,
                    std::chrono::seconds max_age, std::chrono::system_clock::time_point now)
{
    const std::string name = str_cat("cache ", util::quoted(path));
    const auto failure = [&name](std::string_view what) { return Error{Errc::io, str_cat(name, " ", what)}; };

    // 1. Read the file, bounded. O_NONBLOCK: opening a FIFO must not hang
    //    (it is refused below); reads of a regular file ignore the flag.
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fd.fd < 0) {
        const int err = errno;
        if (err == ENOENT)
            return Error{Errc::not_found, str_cat(name, " does not exist")};
        return Error{Errc::io, str_cat("cannot read ", name, ": ", errno_text(err))};
    }
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0)
        return Error{Errc::io, str_cat("cannot read ", name, ": ", errno_text(errno))};
    if (!S_ISREG(st.st_mode))
        return failure("is not a regular file");
    if (static_cast<std::uintmax_t>(st.st_size) > max_file_size)
        return failure(str_cat("is too large (", std::to_string(st.st_size), " bytes, at most ",
                               std::to_string(max_file_size), ")"));
    // One byte more than fstat said, to notice a file that grows meanwhile.
    std::string file(static_cast<std::size_t>(st.st_size) + 1, '\0');
    std::size_t got = 0;
    while (got < file.size()) {
        const ssize_t n = ::read(fd.fd, file.data() + got, file.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error{Errc::io, str_cat("cannot read ", name, ": ", errno_text(errno))};
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    if (got == file.size())
        return failure("changed while it was being read");
    file.resize(got);

    // 2. Header.
    const std::string_view bytes = file;
    if (bytes.substr(0, magic.size()) != magic.substr(0, std::min(magic.size(), bytes.size())))
        return failure("is not a secrun cache file");
    const auto truncated = [&] { return failure(str_cat("is truncated (", std::to_string(got), " bytes)")); };
    if (bytes.size() < header_size)
        return truncated();
    if (const auto version = static_cast<unsigned char>(bytes[magic.size()]); version != format_version)
        return failure(str_cat("has format version ", std::to_string(version), "; this secrun reads version ",
                               std::to_string(format_version)));
    if (bytes.size() < min_file_size)
        return truncated();

    // 3. Authenticate and decrypt; nothing inside is believed before this.
    Wiped plaintext;
    if (!open_sealed(key, bytes, plaintext))
        return failure("failed authentication: tampered with, truncated, or written with another key");

    // 4. Decode.
    Reader in(plaintext.bytes);
    const auto malformed = [&] { return failure("is malformed inside (written by an incompatible secrun?)"); };
    std::uint64_t written_raw = 0;
    std::string_view stored_fingerprint;
    std::uint32_t count = 0;
    if (!in.u64(written_raw) || !in.bytes(stored_fingerprint) || !in.u32(count) ||
        count > in.left() / min_entry_size)
        return malformed();
    Loaded loaded;
    loaded.entries.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        std::string_view f[entry_fields];
        for (std::string_view& field : f)
            if (!in.bytes(field))
                return malformed();
        loaded.entries.push_back(CachedEntry{std::string(f[0]), SecretString(f[1]), std::string(f[2]),
                                             std::string(f[3]), std::string(f[4])});
    }
    const auto written_at = static_cast<std::int64_t>(written_raw);
    if (in.left() != 0 || written_at < 0)
        return malformed();

    // 5. Policy: same manifest, not from the future, young enough.
    if (stored_fingerprint != fingerprint)
        return failure("is not for this manifest: the manifest changed since the cache was written");
    const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (written_at > now_s) {
        const std::chrono::seconds ahead(written_at - now_s);
        if (ahead > allowed_clock_skew)
            return failure(str_cat("was written ", format_age(ahead), " in the future; check the system clock"));
    } else {
        loaded.age = std::chrono::seconds(now_s - written_at);
    }
    if (loaded.age > max_age)
        return failure(str_cat("is ", format_age(loaded.age), " old, older than --cache-max-age ",
                               format_age(max_age)));
    return loaded;
}

std::string format_age(std::chrono::seconds age)
{
    const auto s = std::max<std::int64_t>(0, age.count());
    const auto two = [](std::int64_t big, std::string_view big_unit, std::int64_t small, std::string_view small_unit) {
        std::string out = str_cat(std::to_string(big), big_unit);
        if (small != 0)
            out += str_cat(std::to_string(small), small_unit);
        return out;
    };
    if (s < 60)
        return str_cat(std::to_string(s), "s");
    if (s < 3600)
        return two(s / 60, "m", s % 60, "s");
    if (s < 86400)
        return two(s / 3600, "h", s % 3600 / 60, "m");
    return two(s / 86400, "d", s % 86400 / 3600, "h");
}

} // namespace secrun::cache
