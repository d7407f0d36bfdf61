#include <stdio.h>
int a[1024];
int main(void){ long s=0; for(int i=0;i<1024;i++){a[i]=i;} for(int i=0;i<1024;i+=16){s+=a[i];} printf("%ld\n",s); return 0; }
