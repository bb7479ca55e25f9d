package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net"
	"strings"
	"testing"
)

// request builds a CSR as a kubelet files it, then lets each case change one thing.
func request(t *testing.T, cn string, orgs []string, dns []string, ips []string, mutate func(*csr)) *csr {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: orgs}, DNSNames: dns}
	for _, ip := range ips {
		tpl.IPAddresses = append(tpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tpl, key)
	if err != nil {
		t.Fatal(err)
	}
	r := &csr{}
	r.Spec.Request = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	r.Spec.SignerName = signer
	r.Spec.Username = "system:node:worker-1"
	r.Spec.Groups = []string{"system:nodes", "system:authenticated"}
	r.Spec.Usages = []string{"digital signature", "server auth"}
	if mutate != nil {
		mutate(r)
	}
	return r
}

func lookup(name string) (*node, error) {
	if name != "worker-1" {
		return nil, errors.New("not found")
	}
	n := &node{}
	n.Status.Addresses = append(n.Status.Addresses,
		struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		}{"InternalIP", "10.250.7.2"},
		struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		}{"Hostname", "worker-1"})
	return n, nil
}

func TestJudge(t *testing.T) {
	own := []string{"system:nodes"}
	cases := []struct {
		name   string
		r      *csr
		action string
		reason string
	}{
		{"the node's own request", request(t, "system:node:worker-1", own, []string{"worker-1"}, []string{"10.250.7.2"}, nil), "approve", "worker-1"},
		{"filed by a user, not a node", request(t, "system:node:worker-1", own, []string{"worker-1"}, nil, func(r *csr) { r.Spec.Username = "alice" }), "deny", "not by a node"},
		{"requester outside system:nodes", request(t, "system:node:worker-1", own, []string{"worker-1"}, nil, func(r *csr) { r.Spec.Groups = []string{"system:authenticated"} }), "deny", "system:nodes"},
		{"subject names another node", request(t, "system:node:worker-2", own, []string{"worker-1"}, nil, nil), "deny", "subject CN"},
		{"subject without the nodes group", request(t, "system:node:worker-1", []string{"system:masters"}, []string{"worker-1"}, nil, nil), "deny", "subject O"},
		{"client auth asked for", request(t, "system:node:worker-1", own, []string{"worker-1"}, nil, func(r *csr) { r.Spec.Usages = append(r.Spec.Usages, "client auth") }), "deny", "client auth"},
		{"no server auth", request(t, "system:node:worker-1", own, []string{"worker-1"}, nil, func(r *csr) { r.Spec.Usages = []string{"digital signature"} }), "deny", "server auth"},
		{"not PEM", request(t, "system:node:worker-1", own, []string{"worker-1"}, nil, func(r *csr) { r.Spec.Request = []byte("junk") }), "deny", "no PEM"},
		{"signature broken", request(t, "system:node:worker-1", own, []string{"worker-1"}, nil, func(r *csr) {
			b, _ := pem.Decode(r.Spec.Request)
			b.Bytes[len(b.Bytes)-3] ^= 0xff
			r.Spec.Request = pem.EncodeToMemory(b)
		}), "deny", ""},
		{"an address the node does not report", request(t, "system:node:worker-1", own, []string{"worker-1"}, []string{"10.250.7.1"}, nil), "wait", "10.250.7.1"},
		{"a name the node does not report", request(t, "system:node:worker-1", own, []string{"kubernetes.default.svc"}, nil, nil), "wait", "kubernetes.default.svc"},
		{"no name at all", request(t, "system:node:worker-1", own, nil, nil, nil), "deny", "no DNS name"},
	}
	if len(cases) != 12 {
		t.Fatalf("%d cases", len(cases))
	}
	for _, c := range cases {
		v := judge(c.r, lookup)
		if v.action != c.action || !strings.Contains(v.reason, c.reason) {
			t.Errorf("%s: got %s (%s), want %s mentioning %q", c.name, v.action, v.reason, c.action, c.reason)
		}
	}
}
