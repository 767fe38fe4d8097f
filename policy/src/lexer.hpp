#pragma once
// The tokens of a policy text, read one at a time so that the first error found is the first
// error in the text.

#include <cstddef>
#include <string>
#include <string_view>

namespace nodus::policy::detail {

struct token {
  enum class kind {
    word,
    string,
    open_paren,
    close_paren,
    open_bracket,
    close_bracket,
    comma,
    equals,
    not_equals,
    end,
    invalid
  };

  kind what = kind::end;
  /// word: its text; string: its value, escapes decoded; invalid: what is wrong, for the error.
  std::string text;
  std::size_t offset = 0;  ///< where it starts in the text, from 0
};

/// `'word'`, `a string`, `')'`, `the end`: a token as an error message names what it found.
std::string describe(const token& t);

class lexer {
public:
  explicit lexer(std::string_view text) : text_(text) {}

  /// The next token; `end` from the end of the text on, `invalid` where no token starts.
  token next();

private:
  void skip_space();
  token read_word();
  token read_string();
  token read_operator();

  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace nodus::policy::detail
