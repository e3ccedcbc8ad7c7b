package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a configuration file.
const MaxFileSize = 1 << 20

// ErrTooLarge is returned for a configuration over MaxFileSize.
var ErrTooLarge = errors.New("config: file larger than 1 MiB")

// Load reads a configuration file (empty path: no file), applies defaults
// and validates the result.
func Load(path string) (*Stack, error) {
	var data []byte
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		defer func() { _ = f.Close() }()
		if data, err = io.ReadAll(io.LimitReader(f, MaxFileSize+1)); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	return Parse(data)
}

// Parse decodes YAML strictly (unknown fields are errors), applies defaults
// and validates the result.
func Parse(data []byte) (*Stack, error) {
	if len(data) > MaxFileSize {
		return nil, ErrTooLarge
	}
	s := &Stack{}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config: %s", oneLine(err))
		}
		var extra any
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return nil, errors.New("config: more than one YAML document; want exactly one")
		}
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// oneLine flattens yaml's multi-line error lists ("unmarshal errors:\n line
// 2: field lissen not found") into one line, as the CLI prints one line.
func oneLine(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		parts := make([]string, len(te.Errors))
		for i, e := range te.Errors {
			parts[i] = strings.TrimSpace(e)
		}
		return strings.Join(parts, "; ")
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// Marshal prints the configuration as YAML, the form --print-config shows.
func (s *Stack) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
