// Packs one static binary into an OCI image archive that `ctr images import` takes: one uncompressed layer
// holding the binary, a config naming it as the entrypoint and a numeric non-root user, and the image's name
// in the index. The output is byte-for-byte the same for the same inputs (fixed times, sorted JSON).
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func digest(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

func main() {
	bin := flag.String("binary", "", "the static binary to pack")
	path := flag.String("path", "", "its path in the image, also the entrypoint")
	name := flag.String("name", "", "the image's full name, e.g. localhost/hardened-cluster/pause:1")
	user := flag.String("user", "65532:65532", "numeric user:group the image runs as")
	out := flag.String("out", "", "where to write the archive")
	flag.Parse()
	if *bin == "" || *path == "" || *name == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: mkimage -binary FILE -path /IN/IMAGE -name NAME -out ARCHIVE")
		os.Exit(2)
	}
	content, err := os.ReadFile(*bin)
	check(err)
	epoch := time.Unix(0, 0).UTC()

	var layer bytes.Buffer
	lw := tar.NewWriter(&layer)
	check(lw.WriteHeader(&tar.Header{Name: (*path)[1:], Mode: 0o755, Size: int64(len(content)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}))
	_, err = lw.Write(content)
	check(err)
	check(lw.Close())

	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux", "created": epoch.Format(time.RFC3339),
		"config": map[string]any{"Entrypoint": []string{*path}, "User": *user, "WorkingDir": "/"},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{digest(layer.Bytes())}},
	})
	check(err)
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: digest(config), Size: len(config)},
		"layers": []descriptor{{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: digest(layer.Bytes()), Size: layer.Len()}},
	})
	check(err)
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []descriptor{{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: digest(manifest), Size: len(manifest),
			Annotations: map[string]string{"io.containerd.image.name": *name}}},
	})
	check(err)

	var archive bytes.Buffer
	aw := tar.NewWriter(&archive)
	add := func(n string, b []byte) {
		check(aw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(b)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}))
		_, err := aw.Write(b)
		check(err)
	}
	add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	add("index.json", index)
	for _, b := range [][]byte{config, manifest, layer.Bytes()} {
		add("blobs/sha256/"+digest(b)[7:], b)
	}
	check(aw.Close())
	check(os.WriteFile(*out, archive.Bytes(), 0o644))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}
