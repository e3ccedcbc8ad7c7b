package facade

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/strata-dp/strata"

// TestFrameworkDoesNotImportBench: the framework is what applications build
// on, the bench suite measures it; no package under facade/ (tests included)
// may reach bench/ through the module's own packages.
func TestFrameworkDoesNotImportBench(t *testing.T) {
	root := ".."
	var start []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			start = append(start, filepath.ToSlash(filepath.Join("facade", path)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// seen maps a package dir ("(tests)" appended when its test files count)
	// to the one that imported it.
	seen := map[string]string{}
	var visit func(dir, from string, withTests bool)
	visit = func(dir, from string, withTests bool) {
		key := dir
		if withTests {
			key += " (tests)"
		}
		if _, ok := seen[key]; ok {
			return
		}
		seen[key] = from
		if dir == "bench" || strings.HasPrefix(dir, "bench/") {
			chain := key
			for p := from; p != ""; p = seen[p] {
				chain = p + " -> " + chain
			}
			t.Errorf("%s", chain)
			return
		}
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, f := range files {
			if !withTests && strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, is := range af.Imports {
				p, _ := strconv.Unquote(is.Path.Value)
				if rest, ok := strings.CutPrefix(p, modulePath+"/"); ok {
					visit(rest, key, false)
				}
			}
		}
	}
	for _, dir := range start {
		visit(dir, "", true)
	}
}
