module hardened-cluster/toolchain/cni-plugins

go 1.26

require github.com/containernetworking/plugins v1.10.0 // indirect
