// edgeai._C: the private compiled module. Each binding file registers its part here.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void ea_bind_kernels(py::module_ &m);  // bindings/kernels.cpp
void ea_bind_conv(py::module_ &m);     // bindings/conv.cpp
void ea_bind_llm(py::module_ &m);      // bindings/llm.cpp
void ea_bind_ortops(py::module_ &m);   // bindings/ortops.cpp

PYBIND11_MODULE(_C, m) {
    m.doc() = "edgeai private extension: quantized kernels, dispatch and thread pool";
    ea_bind_kernels(m);
    ea_bind_conv(m);
    ea_bind_llm(m);
    ea_bind_ortops(m);
}
