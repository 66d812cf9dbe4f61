/* zsum: read standard input, print its size, lines, words, CRC-32, Adler-32 and how small
 * zlib's deflate makes it at levels 1 and 9 (then check the round trip). Linked to libc and
 * libz; the output depends only on the input. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static unsigned char *read_all(FILE *in, size_t *size) {
    size_t capacity = 1 << 16, used = 0, got;
    unsigned char *data = malloc(capacity);
    if (!data) return NULL;
    while ((got = fread(data + used, 1, capacity - used, in)) > 0) {
        used += got;
        if (used == capacity) {
            unsigned char *bigger = realloc(data, capacity *= 2);
            if (!bigger) { free(data); return NULL; }
            data = bigger;
        }
    }
    *size = used;
    return data;
}

static long deflated_size(const unsigned char *data, size_t size, int level, int *roundtrip) {
    uLongf bound = compressBound(size), back = size;
    unsigned char *packed = malloc(bound), *unpacked = malloc(size ? size : 1);
    long result = -1;
    *roundtrip = 0;
    if (packed && unpacked && compress2(packed, &bound, data, size, level) == Z_OK) {
        result = (long)bound;
        *roundtrip = uncompress(unpacked, &back, packed, bound) == Z_OK && back == size &&
                     memcmp(unpacked, data, size) == 0;
    }
    free(packed);
    free(unpacked);
    return result;
}

int main(void) {
    size_t size, i;
    long lines = 0, words = 0;
    int in_word = 0, ok1, ok9;
    unsigned char *data = read_all(stdin, &size);
    if (!data) { fputs("zsum: out of memory\n", stderr); return 2; }
    for (i = 0; i < size; i++) {
        if (data[i] == '\n') lines++;
        if (isspace(data[i])) in_word = 0;
        else if (!in_word) { in_word = 1; words++; }
    }
    long fast = deflated_size(data, size, 1, &ok1), best = deflated_size(data, size, 9, &ok9);
    printf("bytes %zu\nlines %ld\nwords %ld\n", size, lines, words);
    printf("crc32 %08lx\nadler32 %08lx\n", crc32(0L, data, size), adler32(1L, data, size));
    printf("deflate-1 %ld\ndeflate-9 %ld\nroundtrip %s\n", fast, best, ok1 && ok9 ? "ok" : "FAILED");
    printf("zlib %s\n", ZLIB_VERSION);
    free(data);
    return ok1 && ok9 ? 0 : 1;
}
