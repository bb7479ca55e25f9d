// hc-csr-approver approves kubelet serving-certificate requests (signer kubernetes.io/kubelet-serving) only when
// the request is the node's own: filed by system:node:<name> in group system:nodes, signed by the key it
// certifies, naming that node and group as subject, asking only for server-auth usages, and listing as
// subject alternative names only the addresses and host names the Node object <name> reports. Anything else
// is denied with the reason; a request whose names the Node does not report yet waits, and is denied once it
// is older than -grace. The API server is reached with a client certificate (no kubeconfig parsing needed).
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

var version = "dev"

const (
	signer     = "kubernetes.io/kubelet-serving"
	nodePrefix = "system:node:"
	nodesGroup = "system:nodes"
)

type condition struct {
	Type           string `json:"type"`
	Status         string `json:"status"`
	Reason         string `json:"reason,omitempty"`
	Message        string `json:"message,omitempty"`
	LastUpdateTime string `json:"lastUpdateTime,omitempty"`
}

type csr struct {
	Metadata map[string]any `json:"metadata"`
	Spec     struct {
		Request    []byte   `json:"request"`
		SignerName string   `json:"signerName"`
		Username   string   `json:"username"`
		Groups     []string `json:"groups"`
		Usages     []string `json:"usages"`
	} `json:"spec"`
	Status struct {
		Conditions []condition `json:"conditions"`
	} `json:"status"`
}

type node struct {
	Status struct {
		Addresses []struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"addresses"`
	} `json:"status"`
}

type client struct {
	server string
	http   *http.Client
}

func (c *client) do(method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.server+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if res.StatusCode/100 != 2 {
		return res.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return res.StatusCode, json.Unmarshal(b, out)
	}
	return res.StatusCode, nil
}

// verdict says what to do with a pending request: approve, deny (final, with a reason) or wait.
type verdict struct {
	action string // "approve", "deny", "wait"
	reason string
}

// judge checks the request against the identity of its requester and the Node object it names.
func judge(r *csr, lookup func(name string) (*node, error)) verdict {
	deny := func(format string, a ...any) verdict { return verdict{"deny", fmt.Sprintf(format, a...)} }
	if !strings.HasPrefix(r.Spec.Username, nodePrefix) || len(r.Spec.Username) == len(nodePrefix) {
		return deny("requested by %q, not by a node (%s<name>)", r.Spec.Username, nodePrefix)
	}
	name := strings.TrimPrefix(r.Spec.Username, nodePrefix)
	if !slices.Contains(r.Spec.Groups, nodesGroup) {
		return deny("requester is not in group %s", nodesGroup)
	}
	block, _ := pem.Decode(r.Spec.Request)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return deny("the request holds no PEM certificate request")
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return deny("the certificate request does not parse: %v", err)
	}
	if err := req.CheckSignature(); err != nil {
		return deny("the certificate request is not signed by the key it certifies: %v", err)
	}
	if req.Subject.CommonName != r.Spec.Username {
		return deny("subject CN %q is not the requester %q", req.Subject.CommonName, r.Spec.Username)
	}
	if !slices.Equal(req.Subject.Organization, []string{nodesGroup}) {
		return deny("subject O %q is not [%s]", req.Subject.Organization, nodesGroup)
	}
	allowed := []string{"digital signature", "key encipherment", "server auth"}
	if !slices.Contains(r.Spec.Usages, "server auth") {
		return deny("usages %q lack server auth", r.Spec.Usages)
	}
	for _, u := range r.Spec.Usages {
		if !slices.Contains(allowed, u) {
			return deny("usage %q is not one a serving certificate needs", u)
		}
	}
	if len(req.EmailAddresses) > 0 || len(req.URIs) > 0 {
		return deny("e-mail or URI names are not a node's")
	}
	if len(req.DNSNames)+len(req.IPAddresses) == 0 {
		return deny("no DNS name or IP address to serve")
	}
	n, err := lookup(name)
	if err != nil {
		return verdict{"wait", fmt.Sprintf("node %s: %v", name, err)}
	}
	var ips, names []string
	for _, a := range n.Status.Addresses {
		switch a.Type {
		case "InternalIP", "ExternalIP":
			ips = append(ips, a.Address)
		case "Hostname", "InternalDNS", "ExternalDNS":
			names = append(names, a.Address)
		}
	}
	for _, ip := range req.IPAddresses {
		if !slices.Contains(ips, ip.String()) {
			return verdict{"wait", fmt.Sprintf("IP address %s is not one node %s reports (%s)", ip, name, strings.Join(ips, ", "))}
		}
	}
	for _, d := range req.DNSNames {
		if !slices.Contains(names, d) {
			return verdict{"wait", fmt.Sprintf("DNS name %q is not one node %s reports (%s)", d, name, strings.Join(names, ", "))}
		}
	}
	return verdict{"approve", fmt.Sprintf("requested by node %s for names and addresses it reports", name)}
}

func pending(r *csr) bool {
	for _, c := range r.Status.Conditions {
		if c.Type == "Approved" || c.Type == "Denied" || c.Type == "Failed" {
			return false
		}
	}
	return true
}

func main() {
	server := flag.String("server", "", "the API server's URL")
	caFile := flag.String("ca-file", "", "CA bundle the API server's certificate is checked against")
	certFile := flag.String("cert-file", "", "client certificate (PEM)")
	keyFile := flag.String("key-file", "", "client key (PEM)")
	interval := flag.Duration("interval", 2*time.Second, "how often pending requests are looked at")
	grace := flag.Duration("grace", 30*time.Second, "how long a request naming what its node does not report yet may wait before it is denied")
	statusFile := flag.String("status-file", "", "written once the first list of requests succeeded (a supervisor's health check)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("hc-csr-approver", version)
		return
	}
	if *server == "" || *caFile == "" || *certFile == "" || *keyFile == "" {
		log.Fatal("-server, -ca-file, -cert-file and -key-file are required")
	}
	ca, err := os.ReadFile(*caFile)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		log.Fatalf("%s holds no certificate", *caFile)
	}
	// Read on every handshake, so a renewed client certificate is used without a restart.
	getCert := func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		c, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		return &c, err
	}
	c := &client{server: strings.TrimRight(*server, "/"), http: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, GetClientCertificate: getCert},
	}}}
	lookup := func(name string) (*node, error) {
		var n node
		_, err := c.do(http.MethodGet, "/api/v1/nodes/"+url.PathEscape(name), nil, &n)
		return &n, err
	}
	log.Printf("hc-csr-approver %s: approving %s requests a node files for itself", version, signer)
	for {
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if _, err := c.do(http.MethodGet, "/apis/certificates.k8s.io/v1/certificatesigningrequests?fieldSelector="+url.QueryEscape("spec.signerName="+signer), nil, &list); err != nil {
			log.Printf("listing requests: %v", err)
		} else if *statusFile != "" {
			if err := os.WriteFile(*statusFile, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
				log.Printf("writing %s: %v", *statusFile, err)
			}
			*statusFile = ""
		}
		for _, raw := range list.Items {
			// The object goes back as it came, with one condition added: fields this program does not know stay.
			var r *csr
			var obj map[string]any
			if json.Unmarshal(raw, &r) != nil || json.Unmarshal(raw, &obj) != nil {
				continue
			}
			if r.Spec.SignerName != signer || !pending(r) {
				continue
			}
			name, _ := r.Metadata["name"].(string)
			v := judge(r, lookup)
			if v.action == "wait" {
				created, _ := time.Parse(time.RFC3339, fmt.Sprint(r.Metadata["creationTimestamp"]))
				if time.Since(created) < *grace {
					continue
				}
				v = verdict{"deny", v.reason}
			}
			cond := condition{Type: "Approved", Status: "True", Reason: "NodeIdentityVerified", Message: v.reason, LastUpdateTime: time.Now().UTC().Format(time.RFC3339)}
			if v.action == "deny" {
				cond.Type, cond.Reason = "Denied", "NodeIdentityMismatch"
			}
			status, _ := obj["status"].(map[string]any)
			if status == nil {
				status = map[string]any{}
			}
			conditions, _ := status["conditions"].([]any)
			status["conditions"] = append(conditions, cond)
			obj["status"] = status
			if _, err := c.do(http.MethodPut, "/apis/certificates.k8s.io/v1/certificatesigningrequests/"+url.PathEscape(name)+"/approval", obj, nil); err != nil {
				log.Printf("%s %s: %v", strings.ToLower(cond.Type), name, err)
				continue
			}
			log.Printf("%s %s: %s", strings.ToLower(cond.Type), name, v.reason)
		}
		time.Sleep(*interval)
	}
}
