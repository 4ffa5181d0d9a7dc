// Errors as values: every layer returns Expected<T> instead of throwing across
// module boundaries. An Error optionally names where in an input file it was
// found (file:line:column) and which field, so the CLI can print one clear line.
// Its kind says whose fault it is; the CLI turns the kind into the exit code
// (sim/cli/exit_code.h) and nothing else decides it.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>

namespace collsim {

// The name of an input file, shared by every mark in it: copying one copies
// a pointer. (A cluster template at 131,072 GPUs gives 1.7 M devices and
// links one mark each; as strings they cost 100 MB.) Reads as the string.
class FileName {
 public:
  FileName() = default;
  FileName(std::string name)  // NOLINT(google-explicit-constructor): reads as the string it holds
      : name_(name.empty() ? nullptr : std::make_shared<const std::string>(std::move(name))) {}
  FileName(const char* name) : FileName(std::string(name)) {}  // NOLINT(google-explicit-constructor)
  const std::string& str() const { return name_ ? *name_ : empty_name(); }
  operator const std::string&() const { return str(); }  // NOLINT(google-explicit-constructor)
  bool empty() const { return str().empty(); }
  friend bool operator==(const FileName& a, const FileName& b) { return a.str() == b.str(); }
  friend std::ostream& operator<<(std::ostream& os, const FileName& f) { return os << f.str(); }

 private:
  static const std::string& empty_name() {
    static const std::string empty;
    return empty;
  }
  std::shared_ptr<const std::string> name_;
};

// A position in an input file. line and column are 1-based (as editors show).
struct SourceMark {
  FileName file;
  int line = 0;
  int column = 0;
};

// kBadInput: the user can fix it by changing a file, a flag or a path they
// named (the default: almost every error is about input). kInternal: collsim
// or the machine failed (the engine process crashed, fork or a pipe failed,
// the disk filled up, an invariant broke); the same command may work again.
enum class ErrorKind { kBadInput, kInternal };

struct Error {
  std::string message;              // what was expected and what was found
  std::string field;                // e.g. "links[3].rate"; empty when not about a field
  std::optional<SourceMark> where;  // empty when not about an input file
  ErrorKind kind = ErrorKind::kBadInput;

  bool internal() const { return kind == ErrorKind::kInternal; }

  // "file:line:col: field 'x': message" (parts omitted when unknown).
  std::string to_string() const;
};

// An error in the user's input (exit code 2).
inline Error make_error(std::string message) { return Error{std::move(message), {}, {}}; }
// A failure of collsim itself or of the machine (exit code 1).
inline Error make_internal_error(std::string message) {
  return Error{std::move(message), {}, {}, ErrorKind::kInternal};
}
// "cannot write 'path': reason" for a failed file operation with errno `err`:
// bad input when the path itself is unusable (no such directory, no
// permission, a directory in the way, a read-only filesystem), internal
// otherwise (disk full, I/O error).
Error make_file_error(std::string message, int err);

// Holds either a value or an Error. REQUIRES: check ok() before value().
template <class T>
class Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Expected(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design
  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<T>(state_); }
  const T& value() const { return std::get<T>(state_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

// For functions that return nothing on success.
struct Ok {};
using Status = Expected<Ok>;

}  // namespace collsim
