// The CIDR arithmetic every guard relies on (components/common/net.ts), checked against values worked out by
// hand from RFC 4632 / RFC 4291 prefix rules and against Node's own BlockList, never against itself.
import { strict as assert } from "node:assert";
import { BlockList } from "node:net";
import { cidrContains, cidrsOverlap, coversWorld, parseCidr, worldCoverIndex } from "../../../components/common";

describe("CIDR arithmetic (components/common/net.ts)", () => {
    it("counts sets that add up to every address as the world, in both families", () => {
        assert.ok(coversWorld(["0.0.0.0/1", "128.0.0.0/1"]));
        assert.ok(coversWorld(["::/1", "8000::/1"]));
        assert.ok(coversWorld(["8000::/1", "::/2", "4000::/2"]));
        assert.ok(coversWorld(["192.0.0.0/2", "0.0.0.0/2", "128.0.0.0/2", "64.0.0.0/2", "10.0.0.0/8"]));
        // One /32 short, a gap in the middle, or halves of different families are not the world.
        assert.equal(coversWorld(["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4", "240.0.0.0/5", "248.0.0.0/6", "252.0.0.0/7", "254.0.0.0/8"]), false);
        assert.equal(coversWorld(["0.0.0.0/2", "128.0.0.0/1"]), false);
        assert.equal(coversWorld(["0.0.0.0/1", "8000::/1"]), false);
        assert.equal(coversWorld([]), false);
        assert.equal(coversWorld(["::/0"], 4), false);
    });

    it("names the entry that completes the cover of the world", () => {
        assert.equal(worldCoverIndex(["10.0.0.0/8", "128.0.0.0/1", "192.0.2.0/24", "0.0.0.0/1"], 4), 3);
        assert.equal(worldCoverIndex(["8000::/1", "::/1", "0.0.0.0/0"], 6), 1);
        assert.equal(worldCoverIndex(["8000::/1", "::/1"], 4), undefined);
        assert.equal(worldCoverIndex(["0.0.0.0/1"], 4), undefined);
    });

    it("finds overlaps and containment in IPv6 as in IPv4", () => {
        assert.ok(cidrsOverlap("fd00::/16", "fd00:96::/108"));
        assert.ok(cidrsOverlap("10.96.0.0/12", "10.100.0.0/16"));
        assert.equal(cidrsOverlap("fd00:96::/108", "fd00:244::/56"), false);
        assert.equal(cidrsOverlap("10.0.0.0/8", "::ffff:10.0.0.0/104"), false, "different families never overlap");
        assert.ok(cidrContains("::/0", "64:ff9b::a9fe:a9fe/128"));
        assert.equal(cidrContains("fd00:ec2::254/128", "fd00:ec2::/64"), false);
    });

    it("agrees with Node's BlockList on membership at both ends of a block", () => {
        const blocks = ["fd00:96::/108", "169.254.0.0/16", "64:ff9b::a9fe:0/112", "2001:db8:8000::/33"];
        let checked = 0;
        for (const b of blocks) {
            const c = parseCidr(b)!;
            const list = new BlockList();
            list.addSubnet(b.split("/")[0], c.prefix, c.family === 4 ? "ipv4" : "ipv6");
            const at = (n: bigint) => {
                const text = c.family === 4
                    ? [24, 16, 8, 0].map((s) => Number((n >> BigInt(s)) & 255n)).join(".")
                    : n.toString(16).padStart(32, "0").match(/.{4}/g)!.join(":");
                return list.check(text, c.family === 4 ? "ipv4" : "ipv6");
            };
            assert.ok(at(c.first) && at(c.last), b);
            assert.ok(!at(c.first - 1n) && !at(c.last + 1n), b);
            checked++;
        }
        assert.equal(checked, blocks.length);
    });

    it("canonicalises as Go's netip prints, and flags host bits", () => {
        assert.equal(parseCidr("2001:DB8:0:0:0::/32")!.canonical, "2001:db8::/32");
        assert.equal(parseCidr("::ffff:a9fe:0/112")!.canonical, "::ffff:169.254.0.0/112");
        assert.equal(parseCidr("fd00:96::1/108")!.hostBitsSet, true);
        assert.equal(parseCidr("fd00:96::1/108")!.canonical, "fd00:96::/108");
        for (const bad of ["10.1/16", "010.0.0.0/8", "10.0.0.0/08", "fe80::1%eth0/64", "::/129", "1.2.3.4/33", " 10.0.0.0/8"]) {
            assert.equal(parseCidr(bad), undefined, bad);
        }
    });
});
