package pack

import (
	"strings"
	"testing"
)

func TestMarkers(t *testing.T) {
	env := GuestEnv("3.13.5")
	for m, want := range map[string]bool{
		``:                        true,
		`python_version >= "3.8"`: true,
		`python_version < "3.8"`:  false,
		`"3.8" <= python_version`: true,
		`sys_platform == "win32"`: false,
		`sys_platform == 'wasi' and (os_name == "posix" or extra == "x")`: true,
		`platform_machine in "x86_64 aarch64"`:                            false,
		`platform_machine not in "x86_64 aarch64"`:                        true,
		`python_full_version == "3.13.*"`:                                 true,
		`extra == "test"`:                                                 false,
		`implementation_name == "cpython" and python_version ~= "3.12"`:   true,
	} {
		got, err := EvalMarker(m, env)
		if err != nil || got != want {
			t.Errorf("%s: got %v %v, want %v", m, got, err, want)
		}
	}
	if _, err := EvalMarker(`nosuchvar == "1"`, env); err == nil {
		t.Error("unknown variable accepted")
	}
}

func TestParseReq(t *testing.T) {
	for s, want := range map[string]string{
		"six":                         "six",
		"Six==1.16":                   "six==1.16",
		"a_b.c>=1,<2":                 "a-b-c>=1,<2",
		"x[tests] (>=2) ; extra=='y'": "x>=2",
	} {
		r, err := ParseReq(s)
		if err != nil || r.String() != want {
			t.Errorf("%s: got %v %v, want %s", s, r, err, want)
		}
	}
	r, _ := ParseReq("x>=1,<2,!=1.5")
	for v, want := range map[string]bool{"1.0": true, "1.5": false, "1.9.9": true, "2.0": false, "0.9": false} {
		if r.Allows(v) != want {
			t.Errorf("%s allows %s: want %v", r, v, want)
		}
	}
	if _, err := ParseReq("x @ https://example.invalid/x.whl"); err == nil {
		t.Error("URL requirement accepted")
	}
}

func TestBuildInspectRoundTrip(t *testing.T) {
	name, w, err := Build(Spec{Name: "My.Pkg", Version: "1.0-1", Requires: []string{"six"},
		Files: map[string][]byte{"my_pkg/__init__.py": []byte("x = 1\n"), "my_pkg/m.wasm": []byte("\x00asm\x01\x00\x00\x00")}})
	if err != nil {
		t.Fatal(err)
	}
	if name != "My_Pkg-1.0_1-py3-none-wasm32_wasi.whl" {
		t.Error(name)
	}
	d, err := Inspect(w, name, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if d.Key != "my-pkg" || d.Version != "1.0-1" || !d.Wasm || d.WasmModules["m"] != "my_pkg/m.wasm" || strings.Join(d.Requires, ",") != "six" {
		t.Errorf("%+v", d)
	}
	// a .wasm that is not WebAssembly is refused
	_, bad, _ := Build(Spec{Name: "p", Version: "1", Files: map[string][]byte{"p/x.wasm": []byte("nope")}})
	if _, err := Inspect(bad, "", DefaultLimits); err == nil || !strings.Contains(err.Error(), "not a WebAssembly module") {
		t.Error(err)
	}
}

func TestEggRequires(t *testing.T) {
	got := strings.Join(eggRequires("six>=1.5\n\n[test]\npytest\n[:python_version < \"3.8\"]\nimportlib-metadata\n"), "|")
	want := `six>=1.5|pytest; extra == "test"|importlib-metadata; (python_version < "3.8")`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
