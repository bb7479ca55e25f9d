// A read-only image registry for a local node: serves the images of the OCI archives it is given (mkimage's
// output) over the registry API's pull endpoints, on the node's loopback. Pods' images are pulled from it
// like from any registry, so the AlwaysPullImages admission plugin stays on although nothing is reachable.
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"
)

type image struct {
	manifest, mediaType, digest string
}

type store struct {
	blobs  map[string][]byte // by digest: configs, layers and manifests
	images map[string]image  // by "repository:tag"
}

func (s *store) load(archive string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		files[h.Name] = b
	}
	var index struct {
		Manifests []struct {
			MediaType   string            `json:"mediaType"`
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		return fmt.Errorf("%s: index.json: %w", archive, err)
	}
	for name, b := range files {
		if d, ok := strings.CutPrefix(name, "blobs/sha256/"); ok {
			if fmt.Sprintf("%x", sha256.Sum256(b)) != d {
				return fmt.Errorf("%s: %s does not match its digest", archive, name)
			}
			s.blobs["sha256:"+d] = b
		}
	}
	for _, m := range index.Manifests {
		full := m.Annotations["io.containerd.image.name"]
		host, rest, ok := strings.Cut(full, "/")
		colon := strings.LastIndex(rest, ":")
		if !ok || host != "localhost" || colon < 0 {
			return fmt.Errorf("%s: image name %q is not localhost/<repository>:<tag>", archive, full)
		}
		if _, ok := s.blobs[m.Digest]; !ok {
			return fmt.Errorf("%s: manifest %s is missing", archive, m.Digest)
		}
		s.images[rest] = image{manifest: m.Digest, mediaType: m.MediaType, digest: m.Digest}
		log.Printf("serving localhost/%s (%s)", rest, m.Digest)
	}
	return nil
}

func (s *store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "read-only registry", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == "/v2/" || p == "/v2" {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		return
	}
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	var body []byte
	var mediaType, digest string
	if i := strings.LastIndex(rest, "/manifests/"); i >= 0 {
		repo, ref := rest[:i], rest[i+len("/manifests/"):]
		if strings.HasPrefix(ref, "sha256:") {
			digest = ref
		} else if img, ok := s.images[repo+":"+ref]; ok {
			digest = img.digest
		}
		mediaType = "application/vnd.oci.image.manifest.v1+json"
	} else if i := strings.LastIndex(rest, "/blobs/"); i >= 0 {
		digest = rest[i+len("/blobs/"):]
		mediaType = "application/octet-stream"
	}
	body, ok = s.blobs[digest]
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintln(w, `{"errors":[{"code":"NOT_FOUND","message":"unknown"}]}`)
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Docker-Content-Digest", digest)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:5000", "address to serve on")
	version := flag.Bool("version", false, "print the version and exit")
	probe := flag.String("probe", "", "GET this URL once and exit 0 on a 200 answer (a health check from inside a node)")
	flag.Parse()
	if *version {
		fmt.Println("hc-registry", buildVersion)
		return
	}
	if *probe != "" {
		c := http.Client{Timeout: 2 * time.Second}
		r, err := c.Get(*probe)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			fmt.Println("HTTP", r.StatusCode)
			os.Exit(1)
		}
		return
	}
	s := &store{blobs: map[string][]byte{}, images: map[string]image{}}
	for _, a := range flag.Args() {
		if err := s.load(a); err != nil {
			log.Fatal(err)
		}
	}
	if len(s.images) == 0 {
		log.Fatal("no images given (pass OCI archives as arguments)")
	}
	srv := &http.Server{Addr: *listen, Handler: s, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("listening on %s", *listen)
	log.Fatal(srv.ListenAndServe())
}

var buildVersion = "dev"
