// hc-kms-plugin: a KMS v2 plugin for local stacks and tests. It wraps the apiserver's data keys with AES-256-GCM
// under a key-encryption key (KEK) read from a file, and serves the k8s.io/kms gRPC service on a unix socket.
// It stands in for a cloud KMS where there is none: the KEK sits on the same machine as the data it protects,
// so it proves the KMS v2 path (envelope format, key_id changes, rotation), not a hardware boundary.
//
// The keys file is JSON, {"current": "<key id>", "keys": {"<key id>": "<base64 of 32 bytes>", ...}}, owned by
// the user running the plugin and readable by no one else. It is read again when it changes, so a new current
// key id (a KEK rotation) is reported by the next Status call without a restart; older ids stay to decrypt.
package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"k8s.io/kms/pkg/service"
)

var version = "dev"

type keyFile struct {
	Current string            `json:"current"`
	Keys    map[string]string `json:"keys"`
}

type keyring struct {
	current string
	keys    map[string]cipher.AEAD
}

type plugin struct {
	path string
	mu   sync.Mutex
	mod  time.Time
	size int64
	ring *keyring
}

// load reads the keys file when its mtime or size changed since the last read.
func (p *plugin) load() (*keyring, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := os.Stat(p.path)
	if err != nil {
		return nil, err
	}
	if p.ring != nil && st.ModTime().Equal(p.mod) && st.Size() == p.size {
		return p.ring, nil
	}
	ring, err := readKeys(p.path)
	if err != nil {
		if p.ring != nil {
			// Keep serving with the keys already loaded; the next call tries the file again.
			log.Printf("keeping the loaded keys: %v", err)
			return p.ring, nil
		}
		return nil, err
	}
	if p.ring == nil || p.ring.current != ring.current {
		log.Printf("current key id: %s (%d keys)", ring.current, len(ring.keys))
	}
	p.ring, p.mod, p.size = ring, st.ModTime(), st.Size()
	return ring, nil
}

func readKeys(path string) (*keyring, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: must be a regular file no group or other can read (mode %v)", path, st.Mode().Perm())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return nil, fmt.Errorf("%s: owned by uid %d, not by this plugin's user", path, sys.Uid)
	}
	var kf keyFile
	if err := json.NewDecoder(f).Decode(&kf); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	ring := &keyring{current: kf.Current, keys: map[string]cipher.AEAD{}}
	for id, b64 := range kf.Keys {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("%s: key %q is not 32 bytes of base64", path, id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		ring.keys[id] = aead
	}
	if _, ok := ring.keys[kf.Current]; !ok || kf.Current == "" {
		return nil, fmt.Errorf("%s: current key id %q has no key", path, kf.Current)
	}
	return ring, nil
}

func (p *plugin) Status(ctx context.Context) (*service.StatusResponse, error) {
	ring, err := p.load()
	if err != nil {
		return &service.StatusResponse{Version: "v2", Healthz: err.Error()}, nil
	}
	return &service.StatusResponse{Version: "v2", Healthz: "ok", KeyID: ring.current}, nil
}

func (p *plugin) Encrypt(ctx context.Context, uid string, data []byte) (*service.EncryptResponse, error) {
	ring, err := p.load()
	if err != nil {
		return nil, err
	}
	aead := ring.keys[ring.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	// The key id is authenticated with the data: a ciphertext cannot be passed off as another key's.
	out := aead.Seal(nonce, nonce, data, []byte(ring.current))
	return &service.EncryptResponse{Ciphertext: out, KeyID: ring.current}, nil
}

func (p *plugin) Decrypt(ctx context.Context, uid string, req *service.DecryptRequest) ([]byte, error) {
	ring, err := p.load()
	if err != nil {
		return nil, err
	}
	aead, ok := ring.keys[req.KeyID]
	if !ok {
		return nil, fmt.Errorf("unknown key id %q", req.KeyID)
	}
	n := aead.NonceSize()
	if len(req.Ciphertext) < n {
		return nil, errors.New("ciphertext too short")
	}
	return aead.Open(nil, req.Ciphertext[:n], req.Ciphertext[n:], []byte(req.KeyID))
}

func main() {
	listen := flag.String("listen", "", "unix socket path to serve on")
	keys := flag.String("keys-file", "", "the keys file (JSON; see the source)")
	timeout := flag.Duration("timeout", 5*time.Second, "gRPC connection timeout")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("hc-kms-plugin", version)
		return
	}
	if *listen == "" || *keys == "" {
		log.Fatal("usage: hc-kms-plugin --listen=/path/kms.sock --keys-file=/path/keys.json")
	}
	// The socket's directory must be this user's alone: whoever could create the socket first would receive
	// every data key the apiserver asks to wrap.
	dir := filepath.Dir(*listen)
	st, err := os.Lstat(dir)
	if err != nil {
		log.Fatal(err)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); !st.IsDir() || st.Mode().Perm()&0o022 != 0 || (ok && int(sys.Uid) != os.Geteuid()) {
		log.Fatalf("%s: the socket's directory must be a directory of this user's that no group or other can write", dir)
	}
	p := &plugin{path: *keys}
	if _, err := p.load(); err != nil {
		log.Fatal(err)
	}
	if err := os.Remove(*listen); err != nil && !os.IsNotExist(err) {
		log.Fatal(err)
	}
	old := syscallUmask(0o077)
	svc := service.NewGRPCService(*listen, *timeout, p)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		svc.Shutdown()
	}()
	log.Printf("hc-kms-plugin %s serving on %s", version, *listen)
	errc := make(chan error, 1)
	go func() { errc <- svc.ListenAndServe() }()
	// The umask applies while the socket is created; restore it once it exists.
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(*listen); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	syscallUmask(old)
	if err := <-errc; err != nil {
		log.Fatal(err)
	}
}

func syscallUmask(m int) int { return syscall.Umask(m) }
