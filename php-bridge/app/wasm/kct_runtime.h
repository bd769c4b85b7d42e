/*
 * The subset of the standard wasm C API (wasm.h) that the PHP bridge uses, flattened for
 * PHP's FFI parser (no preprocessor), plus the runtime library's own functions. The runtime
 * makes the instance, looks up its exports and asks the core's ABI once (kct_rt_instance),
 * and makes each core call (kct_rt_call). Declare only symbols the
 * library exports: FFI::cdef fails on any missing one.
 */
typedef struct wasm_store_t wasm_store_t;
typedef struct wasm_instance_t wasm_instance_t;
typedef struct wasm_func_t wasm_func_t;
typedef struct wasm_memory_t wasm_memory_t;
typedef struct wasm_trap_t wasm_trap_t;

typedef struct wasm_byte_vec_t { size_t size; char *data; } wasm_byte_vec_t;
typedef wasm_byte_vec_t wasm_message_t;

typedef uint8_t wasm_valkind_t;
typedef struct wasm_val_t {
    wasm_valkind_t kind;
    union { int32_t i32; int64_t i64; float f32; double f64; void *ref; } of;
} wasm_val_t;
typedef struct wasm_val_vec_t { size_t size; wasm_val_t *data; } wasm_val_vec_t;

void wasm_byte_vec_delete(wasm_byte_vec_t *);

wasm_trap_t *wasm_func_call(const wasm_func_t *, const wasm_val_vec_t *args, wasm_val_vec_t *results);

char *wasm_memory_data(wasm_memory_t *);
size_t wasm_memory_data_size(const wasm_memory_t *);

void wasm_trap_message(const wasm_trap_t *, wasm_message_t *out);
void wasm_trap_delete(wasm_trap_t *);

typedef struct kct_rt_warm_t {
    wasm_store_t *store;
    wasm_instance_t *instance;
    wasm_memory_t *memory;
    wasm_func_t *abi_version;
    wasm_func_t *buffer;
    wasm_func_t *call;
    wasm_func_t *free;
    wasm_func_t *panic_message;
    uint64_t generation;
    uint32_t abi;
} kct_rt_warm_t;
int kct_rt_instance(const char *path, kct_rt_warm_t *out);
typedef struct kct_rt_answer_t { size_t size; const char *data; } kct_rt_answer_t;
int kct_rt_call(const kct_rt_warm_t *warm, const char *request, size_t len, kct_rt_answer_t *out);
void kct_rt_instance_drop(const char *path);
uint64_t kct_rt_pool_generation(void);
const char *kct_rt_last_error(void);
uint64_t kct_rt_cache_stats(void);
uint32_t kct_rt_wasm_reads(void);
int kct_rt_disk_cache(const char *dir, const char *key_hex);
void kct_rt_disk_stats(uint32_t *out);
