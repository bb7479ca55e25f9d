module hardened-cluster/toolchain/csr-approver

go 1.26
