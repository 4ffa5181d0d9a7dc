// Errors as values: every layer returns Expected<T> instead of throwing across
// module boundaries. An Error optionally names where in an input file it was
// found (file:line:column) and which field, so the CLI can print one clear line.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace collsim {

// A position in an input file. line and column are 1-based (as editors show).
struct SourceMark {
  std::string file;
  int line = 0;
  int column = 0;
};

struct Error {
  std::string message;             // what was expected and what was found
  std::string field;               // e.g. "links[3].rate"; empty when not about a field
  std::optional<SourceMark> where;  // empty when not about an input file

  // "file:line:col: field 'x': message" (parts omitted when unknown).
  std::string to_string() const;
};

inline Error make_error(std::string message) { return Error{std::move(message), {}, {}}; }

// Holds either a value or an Error. REQUIRES: check ok() before value().
template <class T>
class Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}        // NOLINT: implicit by design
  Expected(Error error) : state_(std::move(error)) {}    // NOLINT: implicit by design
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
