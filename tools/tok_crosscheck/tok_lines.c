/* Dev cross-check driver: each stdin line is a prompt as hex; prints the full
 * ids (special tokens included) of the T5 or CLIP tokenizer of a folder.
 *   tok_lines t5 DIR < prompts.hex      tok_lines clip DIR [VOCAB_DIR] < prompts.hex */
#include "pf_tokenizer.h"

#include <stdio.h>

static int hexval(char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    pf_tokenizer *t;
    pf_status s = argv[1][0] == 't' ? pf_tokenizer_load_t5(argv[2], &t)
                                    : pf_tokenizer_load_clip_vocab(argv[2], argc > 3 ? argv[3] : NULL, &t);
    if (s != PF_OK) {
        fprintf(stderr, "%s\n", pf_last_error());
        return 1;
    }
    static char line[1 << 20], text[1 << 19];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strlen(line) / 2;
        for (size_t i = 0; i < n; i++) text[i] = (char)(hexval(line[2 * i]) * 16 + hexval(line[2 * i + 1]));
        int32_t *ids;
        int m;
        if (pf_tokenize_full_n(t, text, n, &ids, &m) != PF_OK) {
            printf("ERROR %s\n", pf_last_error());
            continue;
        }
        for (int i = 0; i < m; i++) printf(i ? " %d" : "%d", ids[i]);
        printf("\n");
        free(ids);
    }
    pf_tokenizer_free(t);
    return 0;
}
