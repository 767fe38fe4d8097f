// A KEK in a PKCS#11 token: an AES-256 key made in the token (sensitive, not extractable), with
// which C_Encrypt/C_Decrypt (CKM_AES_GCM, a random 96-bit IV, a 128-bit tag) wrap and unwrap the
// custodian's keys. Versions are keys labelled LABEL (1), LABEL.v2, LABEL.v3...; a wrapped key is
// `p11:vN:` and base64(IV || ciphertext || tag), with `p11:vN` as the additional data, so a
// version cannot be swapped. The module is loaded once per process (dlopen) and never unloaded;
// each KEK has its own session, used under its mutex.
#include <dlfcn.h>

#include <cstring>
#include <map>
#include <mutex>

#include "nodus/core/base64.hpp"
#include "nodus/kafka_crypto/key_wrapper.hpp"
#include "nodus/vault/vault.hpp"

#if NODUS_HAVE_PKCS11
// Last: in its default (compatibility) mode the header defines macros with common names.
#include <p11-kit/pkcs11.h>
#undef value
#undef count
#undef parameter
#undef params
#undef reserved
#endif

namespace nodus::kafka_crypto {

#if !NODUS_HAVE_PKCS11

result_or_failure<std::shared_ptr<key_wrapper>> open_pkcs11_kek(pkcs11_kek_options) {
  return fail(std::make_error_code(std::errc::not_supported),
              "this build has no PKCS#11 support (p11-kit/pkcs11.h was missing: scripts/install-deps.sh)");
}

#else

namespace {

const char* rv_name(CK_RV rv) {
  switch (rv) {
    case CKR_PIN_INCORRECT: return "wrong PIN (CKR_PIN_INCORRECT)";
    case CKR_PIN_LOCKED: return "PIN locked (CKR_PIN_LOCKED)";
    case CKR_ENCRYPTED_DATA_INVALID: return "does not decrypt: another key, or altered (CKR_ENCRYPTED_DATA_INVALID)";
    case CKR_ENCRYPTED_DATA_LEN_RANGE: return "does not decrypt: a wrong length (CKR_ENCRYPTED_DATA_LEN_RANGE)";
    case CKR_MECHANISM_INVALID: return "the token has no AES-GCM (CKR_MECHANISM_INVALID)";
    case CKR_MECHANISM_PARAM_INVALID: return "the token refuses the AES-GCM parameters (CKR_MECHANISM_PARAM_INVALID)";
    case CKR_TOKEN_WRITE_PROTECTED: return "the token is write-protected";
    case CKR_USER_NOT_LOGGED_IN: return "not logged in (CKR_USER_NOT_LOGGED_IN)";
    case CKR_DEVICE_ERROR: return "device error";
    case CKR_DEVICE_REMOVED: return "device removed";
    case CKR_TOKEN_NOT_PRESENT: return "token not present";
    case CKR_SESSION_HANDLE_INVALID: return "session handle invalid";
    case CKR_KEY_HANDLE_INVALID: return "key handle invalid";
    default: return nullptr;
  }
}

std::string rv_text(CK_RV rv) {
  if (const char* n = rv_name(rv)) return n;
  char buf[32];
  std::snprintf(buf, sizeof buf, "CKR 0x%lx", static_cast<unsigned long>(rv));
  return buf;
}

// Loaded modules by path: initialised once, never finalised (other KEKs may share them).
struct loaded_module {
  CK_FUNCTION_LIST_PTR f = nullptr;
};
std::mutex modules_mutex;
std::map<std::string, loaded_module> modules;
// The SHA-256 of the PIN each (module, token) was logged in with: PKCS#11 logins are per process,
// so a second session is "already logged in" whatever PIN it gives; this tells a wrong one.
std::map<std::string, bytes> logins;

result_or_failure<CK_FUNCTION_LIST_PTR> load(const std::filesystem::path& path) {
  std::lock_guard lock(modules_mutex);
  if (auto it = modules.find(path.string()); it != modules.end()) return it->second.f;
  void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    return fail(std::make_error_code(std::errc::no_such_file_or_directory),
                "cannot load the PKCS#11 module " + path.string() + ": " + (why ? why : "dlopen failed"));
  }
  auto get = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(lib, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR f = nullptr;
  if (!get || get(&f) != CKR_OK || !f) {
    ::dlclose(lib);
    return fail(std::make_error_code(std::errc::invalid_argument),
                path.string() + " is not a PKCS#11 module (no C_GetFunctionList)");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  if (const CK_RV rv = f->C_Initialize(&args); rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    ::dlclose(lib);
    return fail(std::make_error_code(std::errc::io_error),
                "the PKCS#11 module " + path.string() + " does not initialise: " + rv_text(rv));
  }
  modules[path.string()] = {f};
  return f;
}

std::string padded_label(std::string_view label) {
  std::string s(label.substr(0, 32));
  s.resize(32, ' ');
  return s;
}

class pkcs11_kek final : public key_wrapper {
public:
  pkcs11_kek(pkcs11_kek_options o, CK_FUNCTION_LIST_PTR f) : o_(std::move(o)), f_(f) {
    vault::wipe_bytes(o_.pin.data(), o_.pin.size());
    o_.pin.clear();
  }
  ~pkcs11_kek() override {
    if (session_ != CK_INVALID_HANDLE) f_->C_CloseSession(session_);
  }

  result_or_failure<> open(const std::string& pin) {
    CK_ULONG n = 0;
    if (const CK_RV rv = f_->C_GetSlotList(CK_TRUE, nullptr, &n); rv != CKR_OK) return failed("C_GetSlotList", rv);
    std::vector<CK_SLOT_ID> slots(n);
    if (const CK_RV rv = f_->C_GetSlotList(CK_TRUE, slots.data(), &n); rv != CKR_OK) return failed("C_GetSlotList", rv);
    slots.resize(n);
    const auto wanted = padded_label(o_.token_label);
    std::optional<CK_SLOT_ID> slot;
    for (auto id : slots) {
      CK_TOKEN_INFO info{};
      if (f_->C_GetTokenInfo(id, &info) != CKR_OK) continue;
      if (std::memcmp(info.label, wanted.data(), 32) == 0) {
        slot = id;
        break;
      }
    }
    if (!slot)
      return fail(std::make_error_code(std::errc::no_such_device),
                  "no token labelled '" + o_.token_label + "' in " + o_.module.string());
    if (const CK_RV rv = f_->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session_);
        rv != CKR_OK)
      return failed("C_OpenSession", rv);
    std::string copy = pin;
    const CK_RV rv = f_->C_Login(session_, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(copy.data()), copy.size());
    vault::wipe_bytes(copy.data(), copy.size());
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
      return fail(rv == CKR_PIN_INCORRECT ? std::make_error_code(std::errc::permission_denied)
                                          : std::make_error_code(std::errc::io_error),
                  "cannot log in to token '" + o_.token_label + "': " + rv_text(rv));
    {
      const auto digest = vault::sha256(byte_view(reinterpret_cast<const std::uint8_t*>(pin.data()), pin.size()));
      std::lock_guard lock(modules_mutex);
      auto [it, first] = logins.emplace(o_.module.string() + "\n" + o_.token_label, digest);
      if (rv == CKR_OK) it->second = digest;
      if (rv == CKR_USER_ALREADY_LOGGED_IN && !first && it->second != digest)
        return fail(
            std::make_error_code(std::errc::permission_denied),
            "cannot log in to token '" + o_.token_label + "': wrong PIN (not the one this process logged in with)");
    }
    auto first = find(1);
    if (!first) return std::move(first).error();
    if (!first.value()) {
      auto made = generate(1);
      if (!made) return std::move(made).error();
    }
    current_ = 1;
    for (;;) {
      auto next = find(current_ + 1);
      if (!next) return std::move(next).error();
      if (!next.value()) break;
      ++current_;
    }
    return outcome::success();
  }

  result_or_failure<std::string> wrap(byte_view key) override {
    std::lock_guard lock(mutex_);
    return wrap_locked(key);
  }

  result_or_failure<vault::secret> unwrap(std::string_view wrapped) override {
    std::lock_guard lock(mutex_);
    return unwrap_locked(wrapped);
  }

  result_or_failure<std::string> rewrap(std::string_view wrapped) override {
    std::lock_guard lock(mutex_);
    auto key = unwrap_locked(wrapped);
    if (!key) return std::move(key).error();
    return wrap_locked(key.value().view());
  }

  result_or_failure<> rotate() override {
    std::lock_guard lock(mutex_);
    auto made = generate(current_ + 1);
    if (!made) return std::move(made).error();
    ++current_;
    return outcome::success();
  }

  std::string describe() const override {
    return "PKCS#11 key '" + o_.key_label + "' in token '" + o_.token_label + "' (" + o_.module.string() + ")";
  }

private:
  std::string label_of(int version) const {
    return version == 1 ? o_.key_label : o_.key_label + ".v" + std::to_string(version);
  }

  failure failed(const char* call, CK_RV rv) const {
    return failure(std::make_error_code(std::errc::io_error), describe() + ": " + call + ": " + rv_text(rv));
  }

  // The key of `version`, CK_INVALID_HANDLE... as nothing when the token has none.
  result_or_failure<std::optional<CK_OBJECT_HANDLE>> find(int version) {
    if (auto it = handles_.find(version); it != handles_.end()) return std::optional(it->second);
    const auto label = label_of(version);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE wanted[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    if (const CK_RV rv = f_->C_FindObjectsInit(session_, wanted, 2); rv != CKR_OK)
      return failed("C_FindObjectsInit", rv);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG found = 0;
    const CK_RV rv = f_->C_FindObjects(session_, &h, 1, &found);
    f_->C_FindObjectsFinal(session_);
    if (rv != CKR_OK) return failed("C_FindObjects", rv);
    if (found == 0) return std::optional<CK_OBJECT_HANDLE>();
    handles_[version] = h;
    return std::optional(h);
  }

  result_or_failure<> generate(int version) {
    const auto label = label_of(version);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    CK_ULONG length = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE attributes[] = {
        {CKA_CLASS, &cls, sizeof cls},           {CKA_KEY_TYPE, &type, sizeof type},
        {CKA_VALUE_LEN, &length, sizeof length}, {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},         {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no},       {CKA_ENCRYPT, &yes, sizeof yes},
        {CKA_DECRYPT, &yes, sizeof yes},         {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    CK_MECHANISM mechanism{CKM_AES_KEY_GEN, nullptr, 0};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    if (const CK_RV rv = f_->C_GenerateKey(session_, &mechanism, attributes, std::size(attributes), &h); rv != CKR_OK)
      return failure(std::make_error_code(std::errc::io_error),
                     describe() + ": cannot make key '" + label + "': " + rv_text(rv));
    handles_[version] = h;
    return outcome::success();
  }

  static std::string prefix(int version) { return "p11:v" + std::to_string(version) + ":"; }

  result_or_failure<std::string> wrap_locked(byte_view key) {
    auto h = find(current_);
    if (!h) return std::move(h).error();
    if (!h.value())
      return fail(std::make_error_code(std::errc::no_such_file_or_directory),
                  describe() + ": key '" + label_of(current_) + "' is gone from the token");
    const auto iv = vault::random_bytes(12);
    std::string aad = prefix(current_);
    aad.pop_back();
    CK_GCM_PARAMS gcm{};
    gcm.pIv = const_cast<CK_BYTE_PTR>(iv.data());
    gcm.ulIvLen = iv.size();
    gcm.ulIvBits = iv.size() * 8;
    gcm.pAAD = reinterpret_cast<CK_BYTE_PTR>(aad.data());
    gcm.ulAADLen = aad.size();
    gcm.ulTagBits = 128;
    CK_MECHANISM mechanism{CKM_AES_GCM, &gcm, sizeof gcm};
    if (const CK_RV rv = f_->C_EncryptInit(session_, &mechanism, *h.value()); rv != CKR_OK)
      return failed("C_EncryptInit", rv);
    bytes out(iv.begin(), iv.end());
    out.resize(12 + key.size() + 16);
    CK_ULONG n = key.size() + 16;
    if (const CK_RV rv = f_->C_Encrypt(session_, const_cast<CK_BYTE_PTR>(key.data()), key.size(), out.data() + 12, &n);
        rv != CKR_OK)
      return failed("C_Encrypt", rv);
    out.resize(12 + n);
    return prefix(current_) + base64_encode(out);
  }

  result_or_failure<vault::secret> unwrap_locked(std::string_view wrapped) {
    auto malformed = [&] {
      return fail(std::make_error_code(std::errc::invalid_argument),
                  describe() + ": not a key it wrapped (p11:vN:BASE64)");
    };
    if (!wrapped.starts_with("p11:v")) return malformed();
    const auto colon = wrapped.find(':', 5);
    if (colon == std::string_view::npos || colon == 5 || colon > 10) return malformed();
    int version = 0;
    for (char c : wrapped.substr(5, colon - 5)) {
      if (c < '0' || c > '9') return malformed();
      version = version * 10 + (c - '0');
    }
    auto data = base64_decode(wrapped.substr(colon + 1));
    if (version < 1 || !data || data->size() < 12 + 16 || data->size() > 12 + 16 + 1024) return malformed();
    auto h = find(version);
    if (!h) return std::move(h).error();
    if (!h.value())
      return fail(
          std::make_error_code(std::errc::no_such_file_or_directory),
          describe() + ": the token has no key '" + label_of(version) + "' (version " + std::to_string(version) + ")");
    std::string aad = prefix(version);
    aad.pop_back();
    CK_GCM_PARAMS gcm{};
    gcm.pIv = data->data();
    gcm.ulIvLen = 12;
    gcm.ulIvBits = 96;
    gcm.pAAD = reinterpret_cast<CK_BYTE_PTR>(aad.data());
    gcm.ulAADLen = aad.size();
    gcm.ulTagBits = 128;
    CK_MECHANISM mechanism{CKM_AES_GCM, &gcm, sizeof gcm};
    if (const CK_RV rv = f_->C_DecryptInit(session_, &mechanism, *h.value()); rv != CKR_OK)
      return failed("C_DecryptInit", rv);
    vault::secret out(data->size() - 12);
    CK_ULONG n = out.size();
    const CK_RV rv = f_->C_Decrypt(session_, data->data() + 12, data->size() - 12, out.data(), &n);
    vault::wipe_bytes(data->data(), data->size());
    if (rv != CKR_OK)
      return fail(std::make_error_code(std::errc::permission_denied),
                  describe() + ": version " + std::to_string(version) + ": " +
                      (rv_name(rv) ? rv_text(rv) : "does not decrypt: another key, or altered (" + rv_text(rv) + ")"));
    return vault::secret(byte_view(out.data(), n));
  }

  pkcs11_kek_options o_;
  CK_FUNCTION_LIST_PTR f_;
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;
  std::mutex mutex_;
  int current_ = 1;
  std::map<int, CK_OBJECT_HANDLE> handles_;
};

}  // namespace

result_or_failure<std::shared_ptr<key_wrapper>> open_pkcs11_kek(pkcs11_kek_options o) {
  if (o.module.empty() || o.token_label.empty() || o.key_label.empty())
    return fail(std::make_error_code(std::errc::invalid_argument),
                "a PKCS#11 KEK needs a module, a token label and a key label");
  if (o.token_label.size() > 32)
    return fail(std::make_error_code(std::errc::invalid_argument), "a token label is at most 32 bytes");
  if (o.key_label.size() > 200)
    return fail(std::make_error_code(std::errc::invalid_argument), "a key label is at most 200 bytes");
  auto f = load(o.module);
  if (!f) return std::move(f).error();
  std::string pin = std::move(o.pin);
  auto kek = std::make_shared<pkcs11_kek>(std::move(o), f.value());
  auto opened = kek->open(pin);
  vault::wipe_bytes(pin.data(), pin.size());
  if (!opened) return std::move(opened).error();
  return std::shared_ptr<key_wrapper>(std::move(kek));
}

#endif

}  // namespace nodus::kafka_crypto
