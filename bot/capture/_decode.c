/* Packet header decoding, compiled: the fields of every record of a batch in one pass.
 *
 * The same decoding as bot/capture/decode.py (numpy, one gather per field for the whole batch),
 * packet by packet: link layer, VLAN/QinQ tags, MPLS and PPPoE, IPv4/IPv6 (extension headers),
 * TCP/UDP ports and flags. A field is read only where the packet's captured bytes cover it, else
 * it is -1, exactly as there. decode.py uses this when it was built at install and the numpy
 * decoding otherwise; tests compare both on generated, cut and hostile records and the corpus.
 *
 * fields(buffer, data, caplen, link, ints, flags)
 *   data, caplen, link: native int64 arrays of n records (buffer[data[i]:data[i]+caplen[i]]);
 *   ints: a writable native int64 array of ROWS * n, row by row (see the enum);
 *   flags: a writable array of 2 * n bytes: supported link type, has IP addresses.
 *   ValueError when a record does not lie inside the buffer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

enum { L3, L4, SRC, DST, SPORT, DPORT, TCP_FLAGS, SRC_MAC, DST_MAC, OUTER, INNER, V6_AT, ROWS };
enum { L3_OTHER, L3_IPV4, L3_IPV6, L3_ARP };
enum { L4_NONE, L4_TCP, L4_UDP, L4_ICMP, L4_OTHER };
enum {
    ETHERNET = 1, NULL_LINK = 0, RAW = 101, RAW_BSD = 12, RAW_OPENBSD = 14, LOOP = 108,
    SLL = 113, IPV4 = 228, IPV6 = 229, SLL2 = 276,
};

typedef struct {
    const unsigned char *buf;
    int64_t end; /* one past the packet's last captured byte */
} Packet;

/* Positions stay within the buffer plus a few KB (offsets grow by bounded header lengths from
 * a record start checked to lie in the buffer), so no arithmetic here can overflow. */
static int covers(const Packet *p, int64_t pos, int64_t width) {
    return pos >= 0 && width <= p->end - pos;
}

/* The big-endian field of width bytes (1, 2, 4 or 6) at pos; -1 where the packet lacks it. */
static int64_t get(const Packet *p, int64_t pos, int width) {
    if (!covers(p, pos, width)) {
        return -1;
    }
    int64_t value = 0;
    for (int i = 0; i < width; i++) {
        value = (value << 8) | p->buf[pos + i];
    }
    return value;
}

static uint64_t word64(const unsigned char *at) {
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) {
        value = (value << 8) | at[i];
    }
    return value;
}

/* An IPv6 address as a 63-bit token with the top bit set: bot.capture.decode.hash_words. */
static uint64_t hash_words(uint64_t hi, uint64_t lo) {
    uint64_t mixed = (hi * 0x9E3779B97F4A7C15ULL) ^ ((lo + (hi >> 31)) * 0xC2B2AE3D27D4EB4FULL);
    mixed ^= mixed >> 31;
    return mixed | (1ULL << 63);
}

static int64_t ip_version_guess(int64_t first_byte) {
    if (first_byte < 0) {
        return 0;
    }
    return (first_byte >> 4) == 4 ? 0x0800 : (first_byte >> 4) == 6 ? 0x86DD : 0;
}

static int supported(int64_t link) {
    switch (link) {
    case ETHERNET: case NULL_LINK: case RAW: case RAW_BSD: case RAW_OPENBSD: case LOOP:
    case SLL: case IPV4: case IPV6: case SLL2:
        return 1;
    default:
        return 0;
    }
}

typedef struct {
    int64_t ethertype, pos;
} Layer3;

/* The link layer: ethertype, where the network header starts, and the MAC addresses. */
static Layer3 link_layer(const Packet *p, int64_t d, int64_t link, int64_t *row, Py_ssize_t n) {
    Layer3 at = {-1, -1};
    int64_t et, family;
    switch (link) {
    case ETHERNET:
        et = get(p, d + 12, 2);
        at.ethertype = et;
        at.pos = et >= 0 ? d + 14 : -1;
        row[DST_MAC * n] = get(p, d, 6);
        row[SRC_MAC * n] = get(p, d + 6, 6);
        break;
    case SLL:
        at.ethertype = get(p, d + 14, 2);
        at.pos = covers(p, d + 14, 2) ? d + 16 : -1;
        row[SRC_MAC * n] = get(p, d + 6, 6);
        break;
    case SLL2:
        at.ethertype = get(p, d, 2);
        at.pos = covers(p, d, 2) ? d + 20 : -1;
        row[SRC_MAC * n] = get(p, d + 12, 6);
        break;
    case RAW: case RAW_BSD: case RAW_OPENBSD:
        at.ethertype = ip_version_guess(get(p, d, 1));
        at.pos = d;
        break;
    case IPV4:
        at.ethertype = 0x0800;
        at.pos = d;
        break;
    case IPV6:
        at.ethertype = 0x86DD;
        at.pos = d;
        break;
    case NULL_LINK: case LOOP:
        family = get(p, d, 4);
        if (link == NULL_LINK && family > 0xFFFF) { /* the writer's byte order */
            family = ((family & 0xFF) << 24) | ((family & 0xFF00) << 8)
                | ((family >> 8) & 0xFF00) | ((family >> 24) & 0xFF);
        }
        at.ethertype = family == 2 ? 0x0800
            : (family == 10 || family == 24 || family == 28 || family == 30) ? 0x86DD : 0;
        at.pos = d + 4;
        break;
    default:
        break;
    }
    return at;
}

/* VLAN tags (up to three; the first two recorded), then MPLS labels and a PPPoE header. */
static Layer3 inner_layers(const Packet *p, Layer3 at, int64_t *row, Py_ssize_t n) {
    for (int depth = 0; depth < 3; depth++) {
        int64_t et = at.ethertype;
        if (!((et == 0x8100 || et == 0x88A8 || et == 0x9100) && covers(p, at.pos, 4))) {
            break;
        }
        int64_t vid = get(p, at.pos, 2) & 0x0FFF;
        if (depth < 2) {
            row[(depth == 0 ? OUTER : INNER) * n] = vid;
        }
        at.ethertype = get(p, at.pos + 2, 2);
        at.pos += 4;
    }
    for (int label = 0; label < 4; label++) {
        if (!((at.ethertype == 0x8847 || at.ethertype == 0x8848) && covers(p, at.pos, 4))) {
            break;
        }
        int bottom = ((get(p, at.pos, 4) >> 8) & 1) == 1;
        at.pos += 4;
        if (bottom) {
            at.ethertype = ip_version_guess(get(p, at.pos, 1));
        }
    }
    if (at.ethertype == 0x8864 && covers(p, at.pos, 8)) {
        int64_t ppp = get(p, at.pos + 6, 2);
        at.ethertype = ppp == 0x0021 ? 0x0800 : ppp == 0x0057 ? 0x86DD : 0;
        at.pos += 8;
    }
    return at;
}

/* IPv4 or IPv6: addresses, and the transport protocol and where its header starts. */
static void network(const Packet *p, int64_t l3, int64_t pos, int64_t *row, Py_ssize_t n,
                    int64_t *proto, int64_t *l4pos, int *has_ip) {
    if (l3 == L3_IPV4 && covers(p, pos, 20)) {
        int64_t first = get(p, pos, 1), ihl = (first & 0x0F) * 4;
        if ((first >> 4) != 4 || ihl < 20) {
            return;
        }
        *has_ip = 1;
        if ((get(p, pos + 6, 2) & 0x1FFF) == 0) { /* not a later fragment */
            *proto = get(p, pos + 9, 1);
            *l4pos = pos + ihl;
        }
        row[SRC * n] = get(p, pos + 12, 4);
        row[DST * n] = get(p, pos + 16, 4);
    } else if (l3 == L3_IPV6 && covers(p, pos, 40) && (get(p, pos, 1) >> 4) == 6) {
        int64_t next = get(p, pos + 6, 1), at = pos + 40;
        for (int header = 0; header < 4; header++) {
            int ext = (next == 0 || next == 43 || next == 60) && covers(p, at, 2);
            int frag = next == 44 && covers(p, at, 8);
            if (!(ext || frag)) {
                break;
            }
            int64_t size = frag ? 8 : (get(p, at + 1, 1) + 1) * 8;
            int later = frag && (get(p, at + 2, 2) & 0xFFF8) != 0;
            next = later ? -1 : get(p, at, 1);
            at += size;
        }
        *has_ip = 1;
        *proto = next;
        *l4pos = at;
        const unsigned char *address = p->buf + pos + 8;
        row[SRC * n] = (int64_t)hash_words(word64(address), word64(address + 8));
        row[DST * n] = (int64_t)hash_words(word64(address + 16), word64(address + 24));
        row[V6_AT * n] = pos;
    }
}

static void decode_one(const Packet *p, int64_t d, int64_t link, int64_t *row, Py_ssize_t n,
                       unsigned char *flag) {
    int ok = supported(link), has_ip = 0;
    for (int r = 0; r < ROWS; r++) {
        row[r * n] = -1;
    }
    row[SRC * n] = row[DST * n] = 0;
    Layer3 at = inner_layers(p, link_layer(p, d, link, row, n), row, n);
    int64_t version = get(p, at.pos, 1) >> 4; /* -1 stays -1 */
    int64_t l3 = at.ethertype == 0x0800 ? L3_IPV4
        : (at.ethertype == 0x86DD && version == 6) ? L3_IPV6
        : at.ethertype == 0x0806 ? L3_ARP : L3_OTHER;
    int64_t proto = -1, l4pos = -1;
    network(p, l3, at.pos, row, n, &proto, &l4pos, &has_ip);
    int64_t l4 = proto == 6 ? L4_TCP : proto == 17 ? L4_UDP
        : (proto == 1 || proto == 58) ? L4_ICMP : proto >= 0 ? L4_OTHER : L4_NONE;
    if ((l4 == L4_TCP || l4 == L4_UDP) && covers(p, l4pos, 4)) {
        row[SPORT * n] = get(p, l4pos, 2);
        row[DPORT * n] = get(p, l4pos + 2, 2);
    }
    if (l4 == L4_TCP) {
        row[TCP_FLAGS * n] = get(p, l4pos + 13, 1);
    }
    row[L3 * n] = ok ? l3 : L3_OTHER;
    row[L4 * n] = ok ? l4 : L4_NONE;
    flag[0] = (unsigned char)ok;
    flag[n] = (unsigned char)(has_ip && ok);
}

static int column(Py_buffer *view, Py_ssize_t n, const char *name) {
    if (view->len != n * (Py_ssize_t)sizeof(int64_t)) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd int64 values", name, n);
        return -1;
    }
    return 0;
}

static PyObject *fields(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer buf, data, caplen, link, ints, flags;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*w*", &buf, &data, &caplen, &link, &ints, &flags)) {
        return NULL;
    }
    Py_ssize_t n = data.len / (Py_ssize_t)sizeof(int64_t);
    PyObject *result = NULL;
    if (column(&data, n, "data") < 0 || column(&caplen, n, "caplen") < 0
        || column(&link, n, "link") < 0) {
        goto done;
    }
    if (ints.len != ROWS * n * (Py_ssize_t)sizeof(int64_t) || flags.len != 2 * n) {
        PyErr_SetString(PyExc_ValueError, "output arrays of the wrong size");
        goto done;
    }
    const int64_t *starts = data.buf, *lengths = caplen.buf, *links = link.buf;
    int64_t *out = ints.buf, size = (int64_t)buf.len;
    unsigned char *flag = flags.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (starts[i] < 0 || starts[i] > size || lengths[i] < 0 || lengths[i] > size - starts[i]) {
            PyErr_Format(PyExc_ValueError, "record %zd does not lie inside the buffer", i);
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        Packet p = {buf.buf, starts[i] + lengths[i]};
        decode_one(&p, starts[i], links[i], out + i, n, flag + i);
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&buf);
    PyBuffer_Release(&data);
    PyBuffer_Release(&caplen);
    PyBuffer_Release(&link);
    PyBuffer_Release(&ints);
    PyBuffer_Release(&flags);
    return result;
}

static PyMethodDef methods[] = {
    {"fields", fields, METH_VARARGS, "Decode every record of a batch into rows of fields."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_decode", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__decode(void) { return PyModule_Create(&module); }
