package xdp

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/strata-dp/strata/internal/bpftest"
)

// TestCloseUnpinsEveryMap: with UnpinOnClose, Close leaves no pin of any map
// the object declares, whichever maps bpf/lib/maps.h holds, because unpin
// walks the generated lbMaps struct rather than a list kept by hand.
func TestCloseUnpinsEveryMap(t *testing.T) {
	pins := bpftest.PinDir(t)
	spec, err := loadLb()
	if err != nil {
		t.Fatal(err)
	}
	if n := reflect.TypeFor[lbMaps]().NumField(); n != len(spec.Maps) {
		t.Fatalf("lbMaps has %d fields, the object %d maps: run make generate", n, len(spec.Maps))
	}
	var pinned []string
	for name, ms := range spec.Maps {
		if ms.Pinning == ebpf.PinByName {
			pinned = append(pinned, name)
		}
	}
	if len(pinned) == 0 {
		t.Fatal("the object pins no map")
	}
	b, err := New(Options{PinDir: pins, UnpinOnClose: true, ConntrackSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	visited := 0
	b.maps.each(func(string, *ebpf.Map) { visited++ })
	if visited != len(spec.Maps) {
		t.Errorf("each visited %d maps, want %d", visited, len(spec.Maps))
	}
	for _, name := range pinned {
		if _, err := os.Stat(filepath.Join(pins, name)); err != nil {
			t.Errorf("map %s not pinned while loaded: %v", name, err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range pinned {
		if _, err := os.Stat(filepath.Join(pins, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("map %s still pinned after Close (stat: %v)", name, err)
		}
	}
}
