/* The few pieces of ONNX Runtime's C API that edgeai's custom-op library (ortops.cpp) uses, declared
 * here because the onnxruntime wheel ships no headers. Our own declarations, written from the facts of
 * ONNX Runtime's public header include/onnxruntime/core/session/onnxruntime_c_api.h:
 *
 * - OrtApi is an append-only table of function pointers; a function's slot never moves. The slots
 *   below were counted by bindings/ort_api_index.py over the members of `struct OrtApi {` of that header
 *   at commit 44885662608f431f1dfd7684b08431ca6f6f1893 (ORT_API_VERSION 8; the member declarations up to
 *   ReleaseCustomOpDomain, transcribed in order with argument lists elided), and checked by hand
 *   against the C# binding's table (csharp/.../NativeMethods.shared.cs, be64775f, API 14), which
 *   lists the same names in the same order. All are in the frozen "Version 1" part of the table,
 *   except KernelContext_ParallelFor (slot 274, since API version 17 = ONNX Runtime 1.17): counted by
 *   the same script over a copy of the header at ORT_API_VERSION 30, and by offsetof(OrtApi, ...) /
 *   sizeof(void *) from gcc over that copy (which also gave the five slots 87-99 below).
 *   RegisterCustomOps also checks slots 0, 1, 2 and 93 at run time (a status round trip).
 * - OrtCustomOp's fields in header order up to the version-16 ones (CreateKernelV2, KernelComputeV2)
 *   and the later ones as placeholders, from a recent copy of the header (vendored at
 *   yalue/onnxruntime_go bfd36f8: fields through GetAliasMap). ONNX Runtime reads only the fields that
 *   op->version allows.
 * All ONNX Runtime calls use the platform's C calling convention on Linux/macOS (ORT_API_CALL is
 * empty there); on 32-bit Windows it is __stdcall (EA_ORT_CALL below). */
#ifndef EDGEAI_ORT_API_MIN_H
#define EDGEAI_ORT_API_MIN_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define EA_ORT_CALL __stdcall
#else
#define EA_ORT_CALL
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The API version we ask GetApi for: 16 = ONNX Runtime 1.16, the oldest one pyproject.toml allows and
 * the first whose OrtCustomOp has CreateKernelV2 / KernelComputeV2 (errors returned as OrtStatus). */
#define EA_ORT_API_VERSION 16
/* KernelContext_ParallelFor's version: a runtime whose GetApi serves it has the slot */
#define EA_ORT_API_VERSION_PARALLEL_FOR 17

typedef struct OrtStatus OrtStatus;
typedef struct OrtApi OrtApi; /* opaque here: used as a table of slots */
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtCustomOpDomain OrtCustomOpDomain;
typedef struct OrtKernelInfo OrtKernelInfo;
typedef struct OrtKernelContext OrtKernelContext;
typedef struct OrtValue OrtValue;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;
typedef struct OrtShapeInferContext OrtShapeInferContext;

typedef struct OrtApiBase {
    const OrtApi *(EA_ORT_CALL *GetApi)(uint32_t version); /* NULL: this runtime is older than `version` */
    const char *(EA_ORT_CALL *GetVersionString)(void);
} OrtApiBase;

/* OrtErrorCode values we return */
enum { EA_ORT_OK = 0, EA_ORT_FAIL = 1, EA_ORT_INVALID_ARGUMENT = 2 };
/* ONNXTensorElementDataType values we use */
enum { EA_ORT_FLOAT = 1, EA_ORT_UINT8 = 2 };

/* OrtApi slots (see the comment at the top) */
enum {
    EA_ORT_CreateStatus = 0,
    EA_ORT_GetErrorCode = 1,
    EA_ORT_GetErrorMessage = 2,
    EA_ORT_CreateCustomOpDomain = 26,
    EA_ORT_CustomOpDomain_Add = 27,
    EA_ORT_AddCustomOpDomain = 28,
    EA_ORT_GetTensorMutableData = 51,
    EA_ORT_GetTensorElementType = 60,
    EA_ORT_GetDimensionsCount = 61,
    EA_ORT_GetDimensions = 62,
    EA_ORT_GetTensorTypeAndShape = 65,
    EA_ORT_KernelInfoGetAttribute_string = 87,
    EA_ORT_KernelContext_GetInputCount = 88,
    EA_ORT_KernelContext_GetOutputCount = 89,
    EA_ORT_KernelContext_GetInput = 90,
    EA_ORT_KernelContext_GetOutput = 91,
    EA_ORT_ReleaseStatus = 93,
    EA_ORT_ReleaseTensorTypeAndShapeInfo = 99,
    EA_ORT_KernelContext_ParallelFor = 274, /* API >= 17 only: check GetApi(17) first */
};

/* Signatures of those slots */
typedef OrtStatus *(EA_ORT_CALL *ea_ort_CreateStatus_fn)(int code, const char *msg);
typedef int(EA_ORT_CALL *ea_ort_GetErrorCode_fn)(const OrtStatus *status);
typedef const char *(EA_ORT_CALL *ea_ort_GetErrorMessage_fn)(const OrtStatus *status);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_CreateCustomOpDomain_fn)(const char *domain, OrtCustomOpDomain **out);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_CustomOpDomain_Add_fn)(OrtCustomOpDomain *domain, const struct OrtCustomOp *op);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_AddCustomOpDomain_fn)(OrtSessionOptions *options, OrtCustomOpDomain *domain);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_GetTensorMutableData_fn)(OrtValue *value, void **out);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_GetTensorElementType_fn)(const OrtTensorTypeAndShapeInfo *info, int *out);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_GetDimensionsCount_fn)(const OrtTensorTypeAndShapeInfo *info, size_t *out);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_GetDimensions_fn)(const OrtTensorTypeAndShapeInfo *info, int64_t *dims,
                                                           size_t n);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_GetTensorTypeAndShape_fn)(const OrtValue *value, OrtTensorTypeAndShapeInfo **out);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_KernelInfoGetAttribute_string_fn)(const OrtKernelInfo *info, const char *name,
                                                                           char *out, size_t *size);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_KernelContext_GetInputCount_fn)(const OrtKernelContext *ctx, size_t *out);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_KernelContext_GetOutputCount_fn)(const OrtKernelContext *ctx, size_t *out);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_KernelContext_GetInput_fn)(const OrtKernelContext *ctx, size_t index,
                                                                    const OrtValue **out);
typedef OrtStatus *(EA_ORT_CALL *ea_ort_KernelContext_GetOutput_fn)(OrtKernelContext *ctx, size_t index,
                                                                     const int64_t *dims, size_t n, OrtValue **out);
typedef void(EA_ORT_CALL *ea_ort_ReleaseStatus_fn)(OrtStatus *status);
typedef void(EA_ORT_CALL *ea_ort_ReleaseTensorTypeAndShapeInfo_fn)(OrtTensorTypeAndShapeInfo *info);
/* fn(usr_data, i) once for each i in [0, total), in at most num_batch contiguous batches (0: no
 * limit), on the intra-op pool with the calling thread taking part; returns when all are done.
 * fn has the default calling convention (no ORT_API_CALL in the header). */
typedef OrtStatus *(EA_ORT_CALL *ea_ort_KernelContext_ParallelFor_fn)(const OrtKernelContext *ctx,
                                                                       void (*fn)(void *usr_data, size_t i),
                                                                       size_t total, size_t num_batch, void *usr_data);

/* OrtCustomOp: the op's schema and kernel callbacks, fields in ONNX Runtime's order. */
typedef struct OrtCustomOp {
    uint32_t version; /* which of the fields below ONNX Runtime may read: we set EA_ORT_API_VERSION */
    void *(EA_ORT_CALL *CreateKernel)(const struct OrtCustomOp *op, const OrtApi *api, const OrtKernelInfo *info);
    const char *(EA_ORT_CALL *GetName)(const struct OrtCustomOp *op);
    const char *(EA_ORT_CALL *GetExecutionProviderType)(const struct OrtCustomOp *op); /* NULL result: CPU */
    int(EA_ORT_CALL *GetInputType)(const struct OrtCustomOp *op, size_t index);
    size_t(EA_ORT_CALL *GetInputTypeCount)(const struct OrtCustomOp *op);
    int(EA_ORT_CALL *GetOutputType)(const struct OrtCustomOp *op, size_t index);
    size_t(EA_ORT_CALL *GetOutputTypeCount)(const struct OrtCustomOp *op);
    void(EA_ORT_CALL *KernelCompute)(void *kernel, OrtKernelContext *ctx);
    void(EA_ORT_CALL *KernelDestroy)(void *kernel);
    /* the fields below were appended in later API versions (8 to 16); ORT reads each only when
     * op->version is at least the version that added it */
    int(EA_ORT_CALL *GetInputCharacteristic)(const struct OrtCustomOp *op, size_t index);  /* 0: required */
    int(EA_ORT_CALL *GetOutputCharacteristic)(const struct OrtCustomOp *op, size_t index);
    int(EA_ORT_CALL *GetInputMemoryType)(const struct OrtCustomOp *op, size_t index); /* 0: OrtMemTypeDefault */
    int(EA_ORT_CALL *GetVariadicInputMinArity)(const struct OrtCustomOp *op);
    int(EA_ORT_CALL *GetVariadicInputHomogeneity)(const struct OrtCustomOp *op);
    int(EA_ORT_CALL *GetVariadicOutputMinArity)(const struct OrtCustomOp *op);
    int(EA_ORT_CALL *GetVariadicOutputHomogeneity)(const struct OrtCustomOp *op);
    /* version 16: what makes us set version = 16 */
    OrtStatus *(EA_ORT_CALL *CreateKernelV2)(const struct OrtCustomOp *op, const OrtApi *api, const OrtKernelInfo *info,
                                             void **kernel);
    OrtStatus *(EA_ORT_CALL *KernelComputeV2)(void *kernel, OrtKernelContext *ctx);
    /* versions 17 and later: not read at version 16, kept NULL */
    OrtStatus *(EA_ORT_CALL *InferOutputShapeFn)(const struct OrtCustomOp *op, OrtShapeInferContext *ctx);
    int(EA_ORT_CALL *GetStartVersion)(const struct OrtCustomOp *op);
    int(EA_ORT_CALL *GetEndVersion)(const struct OrtCustomOp *op);
    size_t(EA_ORT_CALL *GetMayInplace)(int **input_index, int **output_index);
    void(EA_ORT_CALL *ReleaseMayInplace)(int *input_index, int *output_index);
    size_t(EA_ORT_CALL *GetAliasMap)(int **input_index, int **output_index);
    void(EA_ORT_CALL *ReleaseAliasMap)(int *input_index, int *output_index);
} OrtCustomOp;

#ifdef __cplusplus
}
#endif
#endif
