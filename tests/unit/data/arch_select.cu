// One kernel per GPU architecture, so that a test can tell which entry of a
// multi-architecture fatbinary LoadModuleImage picked.
#if __CUDA_ARCH__ >= 900
extern "C" __global__ void built_for_sm90() {}
#elif __CUDA_ARCH__ >= 800
extern "C" __global__ void built_for_sm80() {}
#endif
