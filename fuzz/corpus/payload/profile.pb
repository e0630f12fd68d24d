

Sở Y tế

Lê Văn B"
0901234567
Trần Thị C"
0907654321"
Cổng thông tin(��˂�4