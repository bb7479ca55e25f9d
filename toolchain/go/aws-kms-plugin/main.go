// hc-aws-kms-plugin: a KMS v2 plugin for the apiserver on AWS. It wraps the apiserver's data-key seeds with
// an AWS KMS key (Encrypt/Decrypt, always with the configured encryption context, Decrypt pinned to that key)
// and serves the k8s.io/kms gRPC service on a unix socket. It takes aws-encryption-provider's flags, so a node
// runs either; this one is built from pinned Go modules with the rest of the toolchain.
//
// Credentials, region and endpoint come from the AWS SDK's usual chain (on EC2: the instance role through
// IMDSv2; AWS_ENDPOINT_URL points it at an emulator in tests).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"k8s.io/kms/pkg/service"
)

var version = "dev"

// How long a health probe's answer stands: the apiserver polls Status often, KMS bills and throttles per call.
const probeTTL = 30 * time.Second

type contextFlag map[string]string

func (c contextFlag) String() string { return fmt.Sprint(map[string]string(c)) }
func (c contextFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("--encryption-context takes key=value, got %q", v)
	}
	c[k] = val
	return nil
}

type plugin struct {
	client  *kms.Client
	key     string
	context map[string]string

	mu       sync.Mutex
	checked  time.Time
	health   string
	resolved string
}

func (p *plugin) Encrypt(ctx context.Context, uid string, data []byte) (*service.EncryptResponse, error) {
	out, err := p.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(p.key), Plaintext: data, EncryptionContext: p.context})
	if err != nil {
		return nil, fmt.Errorf("kms encrypt (request %s): %w", uid, err)
	}
	return &service.EncryptResponse{Ciphertext: out.CiphertextBlob, KeyID: p.key}, nil
}

func (p *plugin) Decrypt(ctx context.Context, uid string, req *service.DecryptRequest) ([]byte, error) {
	if req.KeyID != p.key {
		return nil, fmt.Errorf("ciphertext names key %q; this plugin decrypts only with %q", req.KeyID, p.key)
	}
	out, err := p.client.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(p.key), CiphertextBlob: req.Ciphertext, EncryptionContext: p.context})
	if err != nil {
		return nil, fmt.Errorf("kms decrypt (request %s): %w", uid, err)
	}
	return out.Plaintext, nil
}

// probe encrypts and decrypts a few bytes; the answer is kept for probeTTL.
func (p *plugin) probe(ctx context.Context) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.checked) < probeTTL && p.health != "" {
		return p.health
	}
	p.health = "ok"
	enc, err := p.Encrypt(ctx, "healthz", []byte("hardened-cluster"))
	if err == nil {
		var plain []byte
		plain, err = p.Decrypt(ctx, "healthz", &service.DecryptRequest{Ciphertext: enc.Ciphertext, KeyID: enc.KeyID})
		if err == nil && string(plain) != "hardened-cluster" {
			err = errors.New("kms returned other bytes than it was given")
		}
	}
	if err != nil {
		p.health = err.Error()
	}
	p.checked = time.Now()
	return p.health
}

func (p *plugin) Status(ctx context.Context) (*service.StatusResponse, error) {
	return &service.StatusResponse{Version: "v2", Healthz: p.probe(ctx), KeyID: p.key}, nil
}

func main() {
	key := flag.String("key", "", "the KMS key ARN")
	region := flag.String("region", "", "the key's region")
	listen := flag.String("listen", "", "unix socket path to serve on")
	health := flag.String("health-port", "", "host:port for GET /healthz (empty: none)")
	timeout := flag.Duration("timeout", 5*time.Second, "gRPC connection timeout")
	encContext := contextFlag{}
	flag.Var(encContext, "encryption-context", "key=value added to every KMS call's encryption context (repeatable)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("hc-aws-kms-plugin", version)
		return
	}
	if *key == "" || *listen == "" || *region == "" {
		log.Fatal("usage: hc-aws-kms-plugin --key=<KMS key ARN> --region=<region> --listen=/path/socket.sock [--health-port=127.0.0.1:8083] [--encryption-context=k=v]")
	}
	// Whoever could create the socket first would receive every data-key seed the apiserver asks to wrap, so
	// its directory must be this user's and writable by no one else.
	dir := filepath.Dir(*listen)
	st, err := os.Lstat(dir)
	if err != nil {
		log.Fatal(err)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); !st.IsDir() || st.Mode().Perm()&0o022 != 0 || (ok && int(sys.Uid) != os.Geteuid()) {
		log.Fatalf("%s: the socket's directory must be a directory of this user's that no group or other can write", dir)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(*region))
	if err != nil {
		log.Fatal(err)
	}
	p := &plugin{client: kms.NewFromConfig(cfg), key: *key, context: encContext}
	if err := os.Remove(*listen); err != nil && !os.IsNotExist(err) {
		log.Fatal(err)
	}
	svc := service.NewGRPCService(*listen, *timeout, p)
	if *health != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
			if h := p.probe(r.Context()); h != "ok" {
				http.Error(w, h, http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintln(w, "ok")
		})
		go func() { log.Fatal((&http.Server{Addr: *health, Handler: mux, ReadHeaderTimeout: 5 * time.Second}).ListenAndServe()) }()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		svc.Shutdown()
	}()
	log.Printf("hc-aws-kms-plugin %s serving on %s for %s", version, *listen, *key)
	if err := svc.ListenAndServe(); err != nil {
		log.Fatal(err)
	}
}
