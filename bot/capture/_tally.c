/* The fixed hash table of bot/capture/tally.py, updated packet by packet, compiled.
 *
 * tally.py hashes each (a, b) key to one slot of a fixed table and adds a batch with numpy:
 * a free slot goes to the first key of the batch that asks for it; a key whose slot another
 * key holds is tallied aside (exactly, slower). This loop does the same in one pass, so both
 * give the same table and the same keys aside (tests compare them).
 *
 * add(keys_a, keys_b, counts, weights, used, log2, a, b, w, n, bits) -> (claimed, aside)
 *   keys_a, keys_b, counts, weights: the table's columns (writable uint64, 2**log2 each);
 *   used: the table's occupancy (writable bytes, 2**log2);
 *   a, b, w: the batch's keys and weights (uint64, one each per row); n: packets per row
 *   (uint64) or None for one each; bits: OR the weights instead of adding them.
 *   claimed: how many free slots were taken; aside: the rows left for the caller, as int64
 *   indices (bytes).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* bot.capture.tally._slots */
static uint64_t slot_of(uint64_t a, uint64_t b, int log2) {
    uint64_t spread = b ^ (b >> 29);
    return (a * 0x9E3779B97F4A7C15ULL + spread * 0xC2B2AE3D27D4EB4FULL) >> (64 - log2);
}

static PyObject *add(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer ta, tb, tn, tw, tu, a, b, w, n = {0};
    PyObject *counts, *result = NULL;
    int log2, bits;
    if (!PyArg_ParseTuple(args, "w*w*w*w*w*iy*y*y*Op", &ta, &tb, &tn, &tw, &tu, &log2, &a, &b,
                          &w, &counts, &bits)) {
        return NULL;
    }
    int have_n = counts != Py_None;
    if (have_n && PyObject_GetBuffer(counts, &n, PyBUF_SIMPLE) < 0) {
        have_n = -1;
    }
    Py_ssize_t size = (Py_ssize_t)1 << (log2 < 1 || log2 > 40 ? 0 : log2);
    Py_ssize_t rows = a.len / (Py_ssize_t)sizeof(uint64_t), word = sizeof(uint64_t);
    int64_t *aside = NULL;
    Py_ssize_t set_aside = 0, claimed = 0;
    if (have_n < 0) {
        goto done;
    }
    if (log2 < 1 || log2 > 40 || ta.len != size * word || tb.len != size * word
        || tn.len != size * word || tw.len != size * word || tu.len != size
        || b.len != rows * word || w.len != rows * word || (have_n && n.len != rows * word)) {
        PyErr_SetString(PyExc_ValueError, "tally: arrays of the wrong size");
        goto done;
    }
    aside = PyMem_RawMalloc((rows ? rows : 1) * sizeof(int64_t));
    if (aside == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    uint64_t *keys_a = ta.buf, *keys_b = tb.buf, *packets = tn.buf, *weights = tw.buf;
    unsigned char *used = tu.buf;
    const uint64_t *ka = a.buf, *kb = b.buf, *kw = w.buf, *kn = have_n ? n.buf : NULL;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < rows; i++) {
        uint64_t slot = slot_of(ka[i], kb[i], log2);
        if (!used[slot]) {
            used[slot] = 1;
            keys_a[slot] = ka[i];
            keys_b[slot] = kb[i];
            claimed++;
        } else if (keys_a[slot] != ka[i] || keys_b[slot] != kb[i]) {
            aside[set_aside++] = (int64_t)i;
            continue;
        }
        packets[slot] += kn ? kn[i] : 1;
        weights[slot] = bits ? weights[slot] | kw[i] : weights[slot] + kw[i];
    }
    Py_END_ALLOW_THREADS
    PyObject *indices = PyBytes_FromStringAndSize((const char *)aside, set_aside * 8);
    if (indices != NULL) {
        result = Py_BuildValue("(nN)", claimed, indices);
    }
done:
    PyMem_RawFree(aside);
    PyBuffer_Release(&ta);
    PyBuffer_Release(&tb);
    PyBuffer_Release(&tn);
    PyBuffer_Release(&tw);
    PyBuffer_Release(&tu);
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    PyBuffer_Release(&w);
    if (have_n > 0) {
        PyBuffer_Release(&n);
    }
    return result;
}

static PyMethodDef methods[] = {
    {"add", add, METH_VARARGS, "Tally a batch of keys into the hash table; the rows set aside."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_tally", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__tally(void) { return PyModule_Create(&module); }
