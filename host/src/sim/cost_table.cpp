// The CPU cost table's text form: a TOML subset, `name = cycles` lines under
// [cycles] for every kind of work, and `key = "text"` lines under [source]
// saying where the numbers came from. Errors name the line and column.
#include <charconv>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "veridian/sim/cpus.hpp"

namespace vd::sim {

namespace {
constexpr char kDefaultText[] =
#include "cpu_costs_default.inc"
    ;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

int col_of(std::string_view line, std::string_view part) { return static_cast<int>(part.data() - line.data()) + 1; }

std::string_view strip_comment(std::string_view line) {
  bool in_str = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"') in_str = !in_str;
    if (line[i] == '#' && !in_str) return line.substr(0, i);
  }
  return line;
}
}  // namespace

CostTableError::CostTableError(std::string origin, int l, int c, const std::string& what)
    : std::runtime_error(origin + ":" + std::to_string(l) + ":" + std::to_string(c) + ": " + what), line(l), col(c) {}

CostTable CostTable::defaults() {
  static const CostTable t = parse(kDefaultText, "host/data/cpu_costs.toml");
  return t;
}

CostTable CostTable::parse(std::string_view text, std::string_view origin) {
  CostTable t;
  std::array<bool, kWorkKinds> seen{};
  enum class Section { none, cycles, source } sec = Section::none;
  const std::string org(origin);
  int lineno = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    const std::string_view line = trim(strip_comment(raw));
    if (line.empty()) continue;
    const int lcol = col_of(raw, line);
    if (line.front() == '[') {
      if (line == "[cycles]") sec = Section::cycles;
      else if (line == "[source]") sec = Section::source;
      else throw CostTableError(org, lineno, lcol, "unknown section " + std::string(line) + " (expected [cycles] or [source])");
      continue;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) throw CostTableError(org, lineno, lcol, "expected `name = value`");
    const std::string_view key = trim(line.substr(0, eq));
    const std::string_view val = trim(line.substr(eq + 1));
    if (key.empty()) throw CostTableError(org, lineno, lcol, "missing name before '='");
    if (val.empty()) throw CostTableError(org, lineno, col_of(raw, line) + static_cast<int>(eq) + 1, "missing value after '='");
    if (sec == Section::source) {
      if (val.size() < 2 || val.front() != '"' || val.back() != '"')
        throw CostTableError(org, lineno, col_of(raw, val), "a [source] value is a \"quoted string\"");
      t.source += std::string(key) + ": " + std::string(val.substr(1, val.size() - 2)) + "\n";
      continue;
    }
    if (sec != Section::cycles) throw CostTableError(org, lineno, lcol, "`" + std::string(key) + "` outside [cycles]");
    std::size_t i = 0;
    while (i < kWorkKinds && kWorkNames[i] != key) ++i;
    if (i == kWorkKinds) throw CostTableError(org, lineno, col_of(raw, key), "unknown kind of work `" + std::string(key) + "`");
    if (seen[i]) throw CostTableError(org, lineno, col_of(raw, key), "`" + std::string(key) + "` given twice");
    double v = 0;
    const auto [end, ec] = std::from_chars(val.data(), val.data() + val.size(), v);
    if (ec != std::errc{} || end != val.data() + val.size() || !std::isfinite(v) || v < 0)
      throw CostTableError(org, lineno, col_of(raw, val), "`" + std::string(val) + "` is not a number of cycles >= 0");
    t.cycles[i] = v;
    seen[i] = true;
  }
  for (std::size_t i = 0; i < kWorkKinds; ++i)
    if (!seen[i]) throw CostTableError(org, lineno, 1, "[cycles] has no `" + std::string(kWorkNames[i]) + "`");
  return t;
}

CostTable CostTable::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read cost table " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

std::string CostTable::to_text() const {
  std::ostringstream o;
  o << "[source]\n";
  std::string_view s = source;
  while (!s.empty()) {
    const std::size_t nl = s.find('\n');
    const std::string_view l = s.substr(0, nl);
    s = nl == std::string_view::npos ? std::string_view{} : s.substr(nl + 1);
    const std::size_t colon = l.find(": ");
    if (colon == std::string_view::npos) continue;
    o << l.substr(0, colon) << " = \"" << l.substr(colon + 2) << "\"\n";
  }
  o << "\n[cycles]\n" << std::setprecision(10);
  for (std::size_t i = 0; i < kWorkKinds; ++i) o << kWorkNames[i] << " = " << cycles[i] << "\n";
  return o.str();
}

}  // namespace vd::sim
