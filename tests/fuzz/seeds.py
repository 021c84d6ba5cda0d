#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus/<harness>/ (committed; run again after changing a seed).
Each harness's input layout is in the header comment of tests/fuzz/fuzz_<harness>.c. Seeds found by fuzzing
(crash reproducers) are added by hand as corpus/<harness>/crash-<what> and are not written here."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def varint(v):
    z = (v << 1) ^ (v >> 63)
    z &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(b):
    return varint(-1) if b is None else varint(len(b)) + b


def record(i, key, value, headers=(), ts_delta=0):
    body = b"\x00" + varint(ts_delta) + varint(i) + field(key) + field(value) + varint(len(headers))
    for hk, hv in headers:
        body += field(hk) + field(hv)
    return varint(len(body)) + body


def batch(records, base=0, ts=1700000000000):
    """records: (key, value, headers) tuples. A RecordBatch v2 with a correct CRC."""
    recs = b"".join(record(i, k, v, h, i) for i, (k, v, h) in enumerate(records))
    after_crc = struct.pack(">hiqqqhii", 0, len(records) - 1, ts, ts + len(records) - 1, -1, -1, -1,
                            len(records)) + recs
    head = struct.pack(">iB", 0, 2)  # leader epoch, magic
    crc = struct.pack(">I", crc32c(after_crc))
    rest = head + crc + after_crc
    return struct.pack(">qi", base, len(rest)) + rest


def write(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def render_input(opt, max_bytes, frm, data):
    return bytes([opt, max_bytes]) + struct.pack("<q", frm) + data


def render_seeds():
    two = batch([(b"k1", b"hello", ()), (None, b'{"a":[1,2,{"b":null}]}', ((b"h", b"v"),))])
    write("render", "binary-two-records", render_input(0, 255, 0, two))
    write("render", "json-values", render_input(1, 255, 0, two))
    write("render", "text-headers-escaped-topic",
          render_input(2 | 16, 255, 0, batch([(b"\xc3\xa9", b"line\n\"q\"\x01\xff", ((b"x", None), (b"", b"")))])))
    second = batch([(b"a", b"1", ()), (b"b", b"2", ())], base=2)
    write("render", "two-batches-from-3", render_input(0, 255, 3, two + second))
    write("render", "tombstone-one-record", render_input(8, 0, 0, batch([(b"k", None, ()), (None, None, ())])))
    write("render", "budget-stops-after-first", render_input(0, 1, 0, batch([(b"k", b"v" * 100, ())] * 3)))
    write("render", "truncated", render_input(0, 255, 0, two[:-5]))
    # base offset + lastOffsetDelta past INT64_MAX: must be SL_ECORRUPT (it overflowed in sl_rec_render)
    write("render", "huge-base-offset", render_input(0, 255, 0, batch([(b"a", b"1", ())] * 3, base=(1 << 63) - 2)))
    write("render", "crc-fixed-by-harness", render_input(4, 255, 0, two[:17] + b"\0\0\0\0" + two[21:]))


def v2_seeds():
    write("v2produce", "binary", b"\x00" + b'{"records":[{"key":"a2V5","value":"dmFsdWU=","partition":1,'
          b'"headers":[{"key":"h","value":"dg=="}],"timestamp":5},{"value":null}]}')
    write("v2produce", "json", b"\x01" + b'{"id":[1,{"x":2}],"records":[{"key":{"a":1},"value":[1,-2.5e-3,"\\ud83d\\ude00",'
          b'true,false,null,{}]},{"value":"x"}]}')
    write("v2produce", "text-escapes", b"\x02" + b'{ "records" : [ { "value" : "\\u00e9\\"\\n" , "key" : "k" } ] }')
    write("v2produce", "many-small-batches", b"\x01" + b'{"records":[' + b",".join([b'{"value":"' + b"x" * 90 + b'"}'] * 6) + b"]}")
    write("v2produce", "not-an-object", b"\x01" + b'[{"records":[]}]')
    write("v2produce", "empty-records", b"\x00" + b'{"records":[]}')
    write("v2produce", "bad-base64", b"\x00" + b'{"records":[{"value":"a2F!"}]}')
    write("v2produce", "truncated", b"\x01" + b'{"records":[{"value":{"a":')


def v3_seeds():
    write("v3produce", "binary-and-string", '{"partition_id":0,"key":{"type":"STRING","data":"k"},'
          '"value":{"type":"BINARY","data":"aGVsbG8="},"headers":[{"name":"h","value":"dg=="}]}\n')
    write("v3produce", "json-with-timestamp", '{"value":{"type":"JSON","data":{"a":[1,2,"}"]}},'
          '"timestamp":"2021-02-05T19:14:42.123+01:30"}')
    write("v3produce", "stream-of-three", '{"value":{"type":"STRING","data":"1"}},{"value":null} '
          '{"key":{"type":"JSON","data":null}}')
    write("v3produce", "bad-records", '{"value":{"type":"AVRO","data":"x"}}{"partition_id":-1}{"value":'
          '{"type":"BINARY","data":"!!"}}{"timestamp":"yesterday"}{not json}')
    write("v3produce", "framing-error", '{"value":{"type":"STRING","data":"ok"}} [1]')


def v3split_seeds():
    write("v3split", "three-objects", b"\x07" + b'{"a":1}\n{"b":"}{"}, {"c":[{"d":"\\"}"}]}\r\n')
    write("v3split", "escapes-in-strings", b"\x01" + b'{"a":"\\\\"}{"b":"\\"{"}')
    write("v3split", "framing-error", b"\x03" + b'{"a":1} x{"b":2}')
    write("v3split", "incomplete", b"\x09" + b'{"a":{"b":[1,2')
    write("v3split", "separators-only", b"\x00" + b" ,\t\r\n,,")
    write("v3split", "brackets-close-object", b"\x05" + b'{"a":[}]{}')


def http1_seeds():
    head = ("POST /v3/clusters/c/topics/t/records HTTP/1.1\r\nHost: localhost:8082\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\nExpect: 100-continue\r\n\r\n")
    write("http1", "stream-produce", b"\x11" + (head + "7\r\n{\"a\":1}\r\n3;ext=1\r\n{}\n\r\n0\r\nTrailer: x\r\n\r\nGET").encode())
    write("http1", "bare-lf-and-blank-lines", b"\x22" + b"\r\n\nGET /v1/info HTTP/1.0\nA:b\nC:  \t d \t\n\n")
    write("http1", "obsolete-folding", b"\x33" + b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n")
    write("http1", "incomplete-head", b"\x44" + b"GET /ws/v1/topics/t HTTP/1.1\r\nUpgrade: websocket\r\n")
    write("http1", "huge-chunk-size", b"\x55" + b"10000000001\r\nxx")
    write("http1", "bad-chunk-ending", b"\x66" + b"3\r\nabcX\r\n0\r\n\r\n")


def ws_seeds():
    write("ws", "consume-all-args", "/ws/v1/topics/events\nfrom=earliest\npartition=3\ngroup=g1\nformat=binary\n"
          "max_in_flight=100\nmode=pull\n\n{\"type\":\"ack\",\"offsets\":[{\"partition\":3,\"offset\":7}]}")
    write("ws", "consume-from-time", "/ws/v1/topics/t.1_x-y/\nfrom=time:1700000000000\n")
    write("ws", "produce-json", "/ws/v1/topics/orders/produce\nformat=json\n\n"
          "{\"id\":{\"n\":[1,\"a\"]},\"records\":[{\"key\":\"k\",\"value\":{\"a\":1},\"partition\":0}]}")
    write("ws", "produce-binary-bad", "/ws/v1/topics/orders/produce\nformat=binary\n\n"
          "{\"id\":7,\"records\":[{\"value\":\"not base64!\"}]}")
    write("ws", "bad-args", "/ws/v1/topics/t\nfrom=-1\npartition=99999999999\nformat=avro\n")
    write("ws", "bad-path", "/ws/v1/topics/a/b/c\n")
    write("ws", "bad-topic", "/ws/v1/topics/" + "x" * 250 + "\n")


def mstr(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def mpart(leader, le, pe, replicas):
    return struct.pack(">iiiB", leader, le, pe, len(replicas)) + b"".join(struct.pack(">i", r) for r in replicas)


def metarec_seeds():
    """server/meta_rec.h FORMAT: u8 version 1, u8 type, the type's fields."""
    write("metarec", "register", b"\x01\x01" + struct.pack(">iq", 3, 77) + mstr("node-3") + struct.pack(">HHH", 8082, 8092, 9094))
    write("metarec", "fence", b"\x01\x02" + struct.pack(">iq", 3, 77))
    write("metarec", "topic-create", b"\x01\x04" + mstr("orders") + mstr("AAAAAAAAAAAAAAAAAAAAAB") + struct.pack(">I", 2)
          + mpart(1, 0, 0, [1, 2, 3]) + mpart(-1, 0, 0, [2]) + struct.pack(">H", 1) + mstr("retention.ms") + mstr("1000"))
    write("metarec", "topic-delete", b"\x01\x05" + mstr("orders") + mstr(""))
    write("metarec", "partitions-add", b"\x01\x06" + mstr("orders") + struct.pack(">I", 1) + mpart(2, 0, 0, [2, 3]))
    write("metarec", "topic-config-reset", b"\x01\x07" + mstr("orders") + mstr("retention.ms") + b"\x01" + mstr(""))
    write("metarec", "partition-change", b"\x01\x08" + mstr("orders") + struct.pack(">i", 0) + mpart(2, 1, 1, [1, 2]))


def rpc_frame(response, api, rid, status, payload):
    """server/rpc_frame.h FORMAT."""
    return struct.pack(">IBBHIi", 12 + len(payload), 1, 1 if response else 0, api, rid, status) + payload


def rpcframe_seeds():
    """fuzz_rpcframe: byte 0 is the cut, then the stream."""
    ping = rpc_frame(False, 1, 7, 0, b"")
    propose = rpc_frame(False, 2, 8, 0, b"\x01\x05" + mstr("orders") + mstr(""))
    write("rpcframe", "ping-propose-cut-inside", bytes([21]) + ping + propose)
    write("rpcframe", "response-negative-status", bytes([3]) + rpc_frame(True, 2, 9, -1009, b"") + ping[:10])
    write("rpcframe", "http-stranger", bytes([5]) + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    write("rpcframe", "bad-version", bytes([2]) + b"\x00\x00\x00\x0c\x02\x00" + b"\x00" * 10)


if __name__ == "__main__":
    render_seeds()
    v2_seeds()
    v3_seeds()
    v3split_seeds()
    http1_seeds()
    ws_seeds()
    metarec_seeds()
    rpcframe_seeds()
