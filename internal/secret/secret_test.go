package secret

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestGenerateWritesAPrivateRandomSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.secret")
	// A file left with a loose mode by someone else is replaced, not reused.
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Generate(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if raw, err := hex.DecodeString(string(a)); err != nil || len(raw) != Size {
		t.Fatalf("secret %q is not %d bytes in hex", a, Size)
	}
	got, err := Read(path)
	if err != nil || !bytes.Equal(got, a) {
		t.Fatalf("Read = %q, %v; want %q", got, err, a)
	}
	b, err := Generate(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two secrets are equal")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestReadRefusesAnEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(path, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Read = %v, want ErrEmpty", err)
	}
}
