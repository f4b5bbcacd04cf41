/* Format table: block size, bytes per block and activation type of every ea_type. */
#include <string.h>
#include "../blocks.h"

static const ea_type_traits k_traits[EA_TYPE_MAX] = {
    [EA_F32]  = {"f32",  1,    4,                  EA_F32,  1},
    [EA_F16]  = {"f16",  1,    2,                  EA_F32,  1},
    [EA_BF16] = {"bf16", 1,    2,                  EA_F32,  1},
    [EA_Q4_0] = {"q4_0", QK4_0, sizeof(block_q4_0), EA_Q8_0, 1},
    [EA_Q4_1] = {"q4_1", QK4_1, sizeof(block_q4_1), EA_Q8_1, 1},
    [EA_Q5_0] = {"q5_0", QK5_0, sizeof(block_q5_0), EA_Q8_0, 1},
    [EA_Q5_1] = {"q5_1", QK5_1, sizeof(block_q5_1), EA_Q8_1, 1},
    [EA_Q8_0] = {"q8_0", QK8_0, sizeof(block_q8_0), EA_Q8_0, 1},
    [EA_Q8_1] = {"q8_1", QK8_1, sizeof(block_q8_1), EA_Q8_1, 0},
    [EA_Q2_K] = {"q2_K", QK_K,  sizeof(block_q2_K), EA_Q8_K, 1},
    [EA_Q3_K] = {"q3_K", QK_K,  sizeof(block_q3_K), EA_Q8_K, 1},
    [EA_Q4_K] = {"q4_K", QK_K,  sizeof(block_q4_K), EA_Q8_K, 1},
    [EA_Q5_K] = {"q5_K", QK_K,  sizeof(block_q5_K), EA_Q8_K, 1},
    [EA_Q6_K] = {"q6_K", QK_K,  sizeof(block_q6_K), EA_Q8_K, 1},
    [EA_Q8_K] = {"q8_K", QK_K,  sizeof(block_q8_K), EA_Q8_K, 0},
};

const ea_type_traits *ea_type_info(int type) {
    if (type < 0 || type >= EA_TYPE_MAX || k_traits[type].name == NULL) return NULL;
    return &k_traits[type];
}

int ea_type_from_name(const char *name) {
    if (!name) return -1;
    for (int t = 0; t < EA_TYPE_MAX; t++)
        if (k_traits[t].name && strcmp(k_traits[t].name, name) == 0) return t;
    return -1;
}

size_t ea_row_size(ea_type type, int64_t k) {
    const ea_type_traits *tr = ea_type_info(type);
    if (!tr || k < 0 || k % tr->block_size != 0) return 0;
    return (size_t)(k / tr->block_size) * tr->type_size;
}
