module hardened-cluster/toolchain/pulumi-yaml

go 1.26

require github.com/pulumi/pulumi-yaml v1.25.0 // indirect
