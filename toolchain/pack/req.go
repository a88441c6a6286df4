package pack

import (
	"fmt"
	"regexp"
	"strings"

	pep440 "github.com/aquasecurity/go-pep440-version"
)

// Req is one parsed requirement (PEP 508, without URLs).
type Req struct {
	Name   string
	Key    string // normalized
	Extras []string
	Spec   string // e.g. ">=1,<2" ("" = any)
	Marker string
	spec   *pep440.Specifiers
}

var reqRe = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$`)

// ParseReq parses "name", "name==1.2", "name>=1,<2", "name[x] (>=1); marker".
func ParseReq(s string) (*Req, error) {
	body, marker, _ := strings.Cut(s, ";")
	m := reqRe.FindStringSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("bad requirement %q", s)
	}
	r := &Req{Name: m[1], Key: Normalize(m[1]), Marker: strings.TrimSpace(marker)}
	if m[2] != "" {
		for _, e := range strings.Split(strings.Trim(m[2], "[]"), ",") {
			if e = strings.TrimSpace(e); e != "" {
				r.Extras = append(r.Extras, Normalize(e))
			}
		}
	}
	spec := strings.TrimSpace(m[3])
	spec = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(spec, "("), ")"))
	if strings.HasPrefix(spec, "@") {
		return nil, fmt.Errorf("bad requirement %q: URL requirements are not supported", s)
	}
	if spec != "" {
		ss, err := pep440.NewSpecifiers(spec, pep440.WithPreRelease(true))
		if err != nil {
			return nil, fmt.Errorf("bad requirement %q: %v", s, err)
		}
		r.Spec, r.spec = spec, &ss
	}
	return r, nil
}

// Allows reports whether version v satisfies the specifiers.
func (r *Req) Allows(v string) bool {
	if r.spec == nil {
		return true
	}
	pv, err := pep440.Parse(v)
	if err != nil {
		return false
	}
	return r.spec.Check(pv)
}

func (r *Req) String() string { return r.Key + r.Spec }

// CompareVersions orders PEP 440 versions (unparsable ones sort first).
func CompareVersions(a, b string) int {
	va, ea := pep440.Parse(a)
	vb, eb := pep440.Parse(b)
	switch {
	case ea != nil && eb != nil:
		return strings.Compare(a, b)
	case ea != nil:
		return -1
	case eb != nil:
		return 1
	}
	return va.Compare(vb)
}

// ValidVersion reports whether v is a PEP 440 version.
func ValidVersion(v string) bool { _, err := pep440.Parse(v); return err == nil }

// GuestEnv is the marker environment of a session's interpreter.
func GuestEnv(pyFull string) map[string]string {
	maj := pyFull
	if i := strings.Index(pyFull, "."); i >= 0 {
		if j := strings.Index(pyFull[i+1:], "."); j >= 0 {
			maj = pyFull[:i+1+j]
		}
	}
	return map[string]string{
		"python_version": maj, "python_full_version": pyFull,
		"implementation_version": pyFull, "implementation_name": "cpython",
		"platform_python_implementation": "CPython", "os_name": "posix",
		"sys_platform": "wasi", "platform_system": "WASI", "platform_machine": "wasm32",
		"platform_release": "", "platform_version": "", "extra": "",
	}
}

// EvalMarker evaluates a PEP 508 marker in env.
func EvalMarker(marker string, env map[string]string) (bool, error) {
	if strings.TrimSpace(marker) == "" {
		return true, nil
	}
	toks, err := lexMarker(marker)
	if err != nil {
		return false, err
	}
	p := &markerParser{toks: toks, env: env}
	v, err := p.or()
	if err != nil {
		return false, fmt.Errorf("marker %q: %w", marker, err)
	}
	if p.i != len(p.toks) {
		return false, fmt.Errorf("marker %q: unexpected %q", marker, p.toks[p.i].s)
	}
	return v, nil
}

type mtok struct {
	kind byte // 'v' variable, 's' string, 'o' operator, '(' ')', 'a' and, 'r' or
	s    string
}

func lexMarker(s string) ([]mtok, error) {
	var out []mtok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			out = append(out, mtok{c, string(c)})
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("marker %q: unterminated string", s)
			}
			out = append(out, mtok{'s', s[i+1 : i+1+j]})
			i += j + 2
		case strings.ContainsRune("=!<>~", rune(c)):
			j := i
			for j < len(s) && strings.ContainsRune("=!<>~", rune(s[j])) {
				j++
			}
			out = append(out, mtok{'o', s[i:j]})
			i = j
		default:
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '.' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("marker %q: unexpected %q", s, c)
			}
			w := s[i:j]
			switch w {
			case "and":
				out = append(out, mtok{'a', w})
			case "or":
				out = append(out, mtok{'r', w})
			case "in":
				out = append(out, mtok{'o', "in"})
			case "not":
				out = append(out, mtok{'o', "not"})
			default:
				out = append(out, mtok{'v', w})
			}
			i = j
		}
	}
	// fold "not in"
	var f []mtok
	for i := 0; i < len(out); i++ {
		if out[i].kind == 'o' && out[i].s == "not" && i+1 < len(out) && out[i+1].s == "in" {
			f = append(f, mtok{'o', "not in"})
			i++
			continue
		}
		f = append(f, out[i])
	}
	return f, nil
}

type markerParser struct {
	toks []mtok
	i    int
	env  map[string]string
}

func (p *markerParser) peek() byte {
	if p.i < len(p.toks) {
		return p.toks[p.i].kind
	}
	return 0
}

func (p *markerParser) or() (bool, error) {
	v, err := p.and()
	for err == nil && p.peek() == 'r' {
		p.i++
		var w bool
		w, err = p.and()
		v = v || w
	}
	return v, err
}

func (p *markerParser) and() (bool, error) {
	v, err := p.atom()
	for err == nil && p.peek() == 'a' {
		p.i++
		var w bool
		w, err = p.atom()
		v = v && w
	}
	return v, err
}

func (p *markerParser) value() (string, bool, error) {
	if p.i >= len(p.toks) {
		return "", false, fmt.Errorf("unexpected end")
	}
	t := p.toks[p.i]
	p.i++
	switch t.kind {
	case 's':
		return t.s, false, nil
	case 'v':
		v, ok := p.env[t.s]
		if !ok {
			return "", false, fmt.Errorf("unknown marker variable %s", t.s)
		}
		return v, true, nil
	}
	return "", false, fmt.Errorf("unexpected %q", t.s)
}

func (p *markerParser) atom() (bool, error) {
	if p.peek() == '(' {
		p.i++
		v, err := p.or()
		if err != nil {
			return false, err
		}
		if p.peek() != ')' {
			return false, fmt.Errorf("missing )")
		}
		p.i++
		return v, nil
	}
	l, _, err := p.value()
	if err != nil {
		return false, err
	}
	if p.peek() != 'o' {
		return false, fmt.Errorf("missing operator")
	}
	op := p.toks[p.i].s
	p.i++
	r, _, err := p.value()
	if err != nil {
		return false, err
	}
	switch op {
	case "in":
		return strings.Contains(r, l), nil
	case "not in":
		return !strings.Contains(r, l), nil
	}
	if lv, e1 := pep440.Parse(l); e1 == nil && op != "===" {
		if ss, e2 := pep440.NewSpecifiers(op+r, pep440.WithPreRelease(true)); e2 == nil {
			return ss.Check(lv), nil
		}
	}
	switch op {
	case "==", "===":
		return l == r, nil
	case "!=":
		return l != r, nil
	case "<":
		return l < r, nil
	case "<=":
		return l <= r, nil
	case ">":
		return l > r, nil
	case ">=":
		return l >= r, nil
	}
	return false, fmt.Errorf("bad operator %s", op)
}
