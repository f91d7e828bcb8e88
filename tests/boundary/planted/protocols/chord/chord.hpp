#pragma once
// Stands for a protocol header in the boundary check's own test.
