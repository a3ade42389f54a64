/* The pcap record walk, compiled: where each record of a buffer starts.
 *
 * The chain of record lengths is sequential (each record says where the next one starts), so
 * numpy cannot walk it; this loop does, at memory speed. bot/capture/records.py uses it when it
 * was built at install and falls back to the same loop in Python otherwise; both give the same
 * result (tests compare them).
 *
 * walk(buffer, big_endian) -> (starts, end)
 *   starts: the records' offsets, as native int64 bytes (numpy.frombuffer);
 *   end: where the walk stopped: the first record that does not fit whole in the buffer (its
 *   header, or its data), or the buffer's end.
 *
 * epbs(buffer, pos, big_endian, max_record) -> (starts, end)
 *   pcapng: the enhanced packet blocks from pos on, one after another, while each is one
 *   (type 6, 32 <= length <= max_record, a multiple of 4) and fits whole; end: the first block
 *   that is not, for the Python reader to judge.
 *
 * words(buffer, at, offset, big_endian) -> values
 *   the 4-byte word at at[i] + offset of each record (at: native int64 bytes), as native int64
 *   bytes: one header field of every record of a chunk; ValueError for one past the buffer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static uint32_t u32(const unsigned char *p, int big_endian) {
    return big_endian
        ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]
        : ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

/* Record offsets found so far: an array that grows (without the GIL: the raw allocator). */
typedef struct {
    int64_t *items;
    Py_ssize_t count, room;
} Starts;

static int starts_init(Starts *starts) {
    starts->count = 0;
    starts->room = 4096;
    starts->items = PyMem_RawMalloc(starts->room * sizeof(int64_t));
    return starts->items == NULL ? -1 : 0;
}

static int starts_push(Starts *starts, int64_t value) {
    if (starts->count == starts->room) {
        int64_t *grown = PyMem_RawRealloc(starts->items, 2 * starts->room * sizeof(int64_t));
        if (grown == NULL) {
            return -1;
        }
        starts->items = grown;
        starts->room *= 2;
    }
    starts->items[starts->count++] = value;
    return 0;
}

/* (the offsets as int64 bytes, end), freeing the array; MemoryError when it could not grow. */
static PyObject *starts_result(Starts *starts, int failed, int64_t end) {
    PyObject *bytes = NULL;
    if (!failed) {
        bytes = PyBytes_FromStringAndSize(
            (const char *)starts->items, starts->count * (Py_ssize_t)sizeof(int64_t));
    }
    PyMem_RawFree(starts->items);
    if (failed) {
        return PyErr_NoMemory();
    }
    if (bytes == NULL) {
        return NULL;
    }
    return Py_BuildValue("(NL)", bytes, (long long)end);
}

static PyObject *walk(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    int big_endian, failed = 0;
    Starts starts;
    if (!PyArg_ParseTuple(args, "y*p", &view, &big_endian)) {
        return NULL;
    }
    if (starts_init(&starts) < 0) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    const unsigned char *buf = (const unsigned char *)view.buf;
    int64_t size = (int64_t)view.len, pos = 0;
    Py_BEGIN_ALLOW_THREADS
    while (pos <= size - 16) {
        if (starts_push(&starts, pos) < 0) {
            failed = 1;
            break;
        }
        pos += 16 + (int64_t)u32(buf + pos + 8, big_endian);
    }
    Py_END_ALLOW_THREADS
    if (pos > size && starts.count > 0) { /* the last record did not fit: give it back */
        pos = starts.items[--starts.count];
    }
    PyBuffer_Release(&view);
    return starts_result(&starts, failed, pos);
}

static PyObject *epbs(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    long long start, max_record;
    int big_endian, failed = 0;
    Starts starts;
    if (!PyArg_ParseTuple(args, "y*LpL", &view, &start, &big_endian, &max_record)) {
        return NULL;
    }
    if (starts_init(&starts) < 0) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    const unsigned char *buf = (const unsigned char *)view.buf;
    int64_t size = (int64_t)view.len, pos = start < 0 ? 0 : (int64_t)start;
    Py_BEGIN_ALLOW_THREADS
    while (pos <= size - 12) {
        uint32_t kind = u32(buf + pos, big_endian), length = u32(buf + pos + 4, big_endian);
        if (kind != 6 || length < 32 || (int64_t)length > max_record || length % 4
            || pos + (int64_t)length > size) {
            break;
        }
        if (starts_push(&starts, pos) < 0) {
            failed = 1;
            break;
        }
        pos += length;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return starts_result(&starts, failed, pos);
}

static PyObject *words(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view, at;
    long long offset;
    int big_endian;
    if (!PyArg_ParseTuple(args, "y*y*Lp", &view, &at, &offset, &big_endian)) {
        return NULL;
    }
    Py_ssize_t n = at.len / (Py_ssize_t)sizeof(int64_t);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    if (out != NULL) {
        const unsigned char *buf = (const unsigned char *)view.buf;
        const int64_t *starts = (const int64_t *)at.buf;
        int64_t *values = (int64_t *)PyBytes_AS_STRING(out), size = (int64_t)view.len;
        Py_ssize_t i = 0;
        if (offset >= -size && offset <= size) { /* else every field is past the buffer */
            Py_BEGIN_ALLOW_THREADS
            for (; i < n; i++) {
                if (starts[i] < 0 || starts[i] > size) {
                    break;
                }
                int64_t pos = starts[i] + offset; /* |both| <= size: no overflow */
                if (pos < 0 || pos > size - 4) {
                    break;
                }
                values[i] = u32(buf + pos, big_endian);
            }
            Py_END_ALLOW_THREADS
        }
        if (i < n) {
            Py_CLEAR(out);
            PyErr_SetString(PyExc_ValueError, "words: a field past the buffer");
        }
    }
    PyBuffer_Release(&view);
    PyBuffer_Release(&at);
    return out;
}

static PyMethodDef methods[] = {
    {"epbs", epbs, METH_VARARGS, "Enhanced packet blocks from pos on, while each fits whole."},
    {"walk", walk, METH_VARARGS, "Where each pcap record of a buffer starts; and where it stopped."},
    {"words", words, METH_VARARGS, "The 4-byte word at each record's start plus offset."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_walk", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__walk(void) { return PyModule_Create(&module); }
