// Package secret makes and reads the shared secrets Strata's processes
// authenticate with: the state tier's AUTH secret and the control plane's
// bearer token.
//
// What is dangerous here: a secret file that others can read is no secret.
// Generate writes with mode 0600 through a private temporary file and a
// rename, so the secret is never visible under a looser mode, not even for
// a moment, and a reader never sees half of it.
package secret

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Size is the number of random bytes in a generated secret; the file holds
// them hex-encoded (64 characters).
const Size = 32

// ErrEmpty is returned by Read for a file that holds only white space.
var ErrEmpty = errors.New("secret file is empty")

// Generate writes a new random secret to path (mode 0600), replacing any
// file there, and returns it.
func Generate(path string) ([]byte, error) {
	raw := make([]byte, Size)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate secret: %w", err)
	}
	s := []byte(hex.EncodeToString(raw))
	// CreateTemp opens with mode 0600.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	_, werr := f.Write(append(s, '\n'))
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return nil, fmt.Errorf("write secret %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		_ = os.Remove(f.Name())
		return nil, fmt.Errorf("write secret %s: %w", path, err)
	}
	return s, nil
}

// Read returns the secret in path without surrounding white space.
func Read(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil, fmt.Errorf("%s: %w", path, ErrEmpty)
	}
	return []byte(s), nil
}
